/** Runs the built CLI (`node bin/run.js ...`) as a child process and collects its output. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
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

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** The exit code, once the process has closed. */
  exit: Promise<number | null>;
  /** What it has written to stdout so far. */
  stdout(): Buffer;
  /** What it has written to stderr so far. */
  stderr(): string;
}

/**
 * Starts the built CLI and returns at once (for tests that signal or kill it while it runs); stdin stays open
 * until the caller ends it (`child.stdin.end()`).
 */
export function spawnCli(args: string[], opts: Omit<RunCliOptions, 'stdin' | 'timeoutMs'> = {}): RunningCli {
  const child = spawn(process.execPath, [binRun, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: cleanEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.on('error', () => {});
  const exit = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  exit.catch(() => {}); // a caller that never awaits it must not see an unhandled rejection
  return { child, exit, stdout: () => Buffer.concat(out), stderr: () => err };
}

/** Runs the built CLI to its end (killed after `timeoutMs`, default 60 s). */
export async function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const run = spawnCli(args, opts);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  run.child.stdin.end(opts.stdin ?? '');
  try {
    const code = await run.exit;
    return { code, stdout: run.stdout(), stderr: run.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

/** Feeds `input` to `redis-cli --pipe` (the system's 7.0, or `cli`) and returns its error and reply counts. */
export function redisCliPipe(
  port: number,
  input: Buffer,
  cli = 'redis-cli',
): Promise<{ errors: number; replies: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cli, ['-h', '127.0.0.1', '-p', String(port), '--pipe'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const m = /errors: (\d+), replies: (\d+)/.exec(output);
      if (!m) reject(new Error(`redis-cli --pipe: ${output}`));
      else resolve({ errors: Number(m[1]), replies: Number(m[2]), output });
    });
    child.stdin.end(input);
  });
}
