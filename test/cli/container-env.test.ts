/**
 * The container's entry point as the image runs it (Dockerfile: `ENTRYPOINT ["node", "/app/bin/run.js"]`, a
 * non-root USER, WORKDIR /data): `shake sync` with only environment variables (SHAKE_<SECTION>_<KEY>, the source
 * password included), no flag, no config file, in an empty working directory. It copies, follows a write, stops
 * on SIGTERM with exit 0, and leaves its checkpoint in the working directory (the volume), from which a second
 * run resumes without a new full sync.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { repoRoot } from '../helpers/load-records.js';
import { spawnCli } from './helpers/run-cli.js';

async function until(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the container entry point, configured by environment variables alone', () => {
  let source: RedisServer;
  let target: RedisServer;
  let src: Redis;
  let tgt: Redis;
  const volume = mkdtempSync(join(tmpdir(), 'shake-data-'));
  before(async () => {
    [source, target] = await Promise.all([startRedis({ password: 'src-secret' }), startRedis()]);
    src = source.client({ password: 'src-secret' });
    tgt = target.client();
    await src.set('before', '1');
  });
  after(async () => {
    src?.disconnect();
    tgt?.disconnect();
    await Promise.all([source?.stop(), target?.stop()]);
    rmSync(volume, { recursive: true, force: true });
  });

  test('the Dockerfile runs bin/run.js as a non-root user in /data', () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^ENTRYPOINT \["node", "\/app\/bin\/run\.js"\]$/m);
    assert.match(dockerfile, /^WORKDIR \/data$/m);
    const user = /^USER (\S+)$/m.exec(dockerfile)?.[1];
    assert.ok(user && user !== 'root' && user !== '0', `USER ${user}`);
  });

  const env = (): Record<string, string> => ({
    SHAKE_SOURCE_URL: `redis://127.0.0.1:${source.port}`,
    SHAKE_SOURCE_PASSWORD: 'src-secret',
    SHAKE_TARGET_URL: `redis://127.0.0.1:${target.port}`,
    SHAKE_LOG_PROGRESS: 'never',
  });

  test('sync: copies, follows, stops on SIGTERM with exit 0, resumes from the volume', async () => {
    const first = spawnCli(['sync'], { env: env(), cwd: volume });
    await until('the snapshot on the target', async () => (await tgt.get('before')) === '1');
    await src.set('during', '2');
    await until('the live write on the target', async () => (await tgt.get('during')) === '2');
    first.child.kill('SIGTERM');
    assert.equal(await first.exit, 0, first.stderr());
    assert.ok(existsSync(join(volume, '.shake-sync')), 'the checkpoint is in the working directory');
    assert.doesNotMatch(first.stderr(), /src-secret/);

    const fullBefore = Number(/sync_full:(\d+)/.exec(await src.info('stats'))![1]);
    await src.set('while-stopped', '3');
    const second = spawnCli(['sync'], { env: env(), cwd: volume });
    await until('the write made while stopped', async () => (await tgt.get('while-stopped')) === '3');
    second.child.kill('SIGTERM');
    assert.equal(await second.exit, 0, second.stderr());
    const stats = await src.info('stats');
    assert.equal(Number(/sync_full:(\d+)/.exec(stats)![1]), fullBefore, 'resumed with PSYNC, no new full sync');
  });
});
