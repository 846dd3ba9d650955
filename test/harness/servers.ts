/**
 * Other Redis / Valkey versions for tests: ../shared/servers/build.sh LABEL builds them once per machine (a
 * no-op when already built) and prints the folder holding redis-server. A failed build fails the test loudly.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/load-records.js';

export type ServerLabel =
  'redis-2.8' | 'redis-4.0' | 'redis-6.2' | 'redis-7.2' | 'redis-7.4' | 'redis-8.0-m01' | 'valkey-8.0';

const BUILD = process.env.SHAKE_SERVERS_BUILD ?? join(repoRoot, '..', 'shared', 'servers', 'build.sh');

/** The redis-server binary of that version (built on first use: minutes). */
export function serverBinary(label: ServerLabel): string {
  let out: string;
  try {
    out = execFileSync('bash', [BUILD, label], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `building ${label} with ${BUILD} failed: ${e.stderr?.trim().split('\n').slice(-5).join(' | ') ?? e.message}`,
    );
  }
  const dir = out.trim().split('\n').pop() ?? '';
  return join(dir, 'redis-server');
}
