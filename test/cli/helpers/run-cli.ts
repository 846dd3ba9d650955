/** Runs the built CLI (`node bin/run.js ...`) as a child process and collects its output. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/load-records.js';

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunCliOptions {
  stdin?: Buffer | string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

export const binRun = join(repoRoot, 'bin', 'run.js');

/** The environment without any SHAKE_* setting of the caller, so tests see defaults. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SHAKE_')) env[k] = v;
  env.NO_COLOR = '1';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binRun, ...args], {
      cwd: opts.cwd ?? repoRoot,
      env: cleanEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin ?? '');
  });
}
