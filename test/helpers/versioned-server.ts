/**
 * The folder of a Redis build other than the system's redis-server, from ../shared/servers/build.sh (a no-op
 * when already built; a build takes minutes). Throws when the build fails: a test that needs that version
 * must fail loudly, never skip.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './load-records.js';

export function serverBuild(label: string): { redisServer: string; redisCli: string } {
  const script = process.env.SHAKE_SERVERS_BUILD ?? join(repoRoot, '..', 'shared', 'servers', 'build.sh');
  let out: string;
  try {
    out = execFileSync('bash', [script, label], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`building ${label} with ${script} failed: ${(e.stderr ?? e.message).trim().slice(-500)}`);
  }
  const dir = out.trim().split('\n').pop()!;
  return { redisServer: join(dir, 'redis-server'), redisCli: join(dir, 'redis-cli') };
}
