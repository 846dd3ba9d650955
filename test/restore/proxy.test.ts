/**
 * A proxy target: twemproxy (nutcracker) in front of a live redis-server. Detected (it refuses INFO),
 * written with plain commands only (no RESTORE, no SELECT, no MULTI); what a proxy cannot take (streams,
 * function libraries) fails per key with a clear message instead of killing the run. Skipped when
 * nutcracker is not installed (`apt-get install -y nutcracker`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '../../src/redis/index.js';
import { freePort, startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { alignFor70, restoreInto } from './helpers.js';

const haveNutcracker = spawnSync('nutcracker', ['--version'], { encoding: 'utf8' }).status === 0;

describe(
  'restore through twemproxy (proxy target)',
  { skip: haveNutcracker ? false : 'nutcracker not installed' },
  () => {
    let server: RedisServer;
    let proxy: ChildProcess;
    let proxyPort = 0;
    const dir = mkdtempSync(join(tmpdir(), 'shake-nc-'));
    before(async () => {
      server = await startRedis();
      proxyPort = await freePort();
      const conf = join(dir, 'nc.yml');
      writeFileSync(
        conf,
        `alpha:\n  listen: 127.0.0.1:${proxyPort}\n  hash: fnv1a_64\n  distribution: ketama\n  redis: true\n` +
          `  auto_eject_hosts: false\n  servers:\n   - 127.0.0.1:${server.port}:1\n`,
      );
      proxy = spawn('nutcracker', ['-c', conf, '-o', join(dir, 'nc.log')], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        const ok = await connect({ host: '127.0.0.1', port: proxyPort, connectTimeoutMs: 200 })
          .then(async (c) => {
            await c.close();
            return true;
          })
          .catch(() => false);
        if (ok) break;
        await sleep(50);
      }
    });
    after(async () => {
      proxy?.kill();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('redis-7.4 db 0: plain commands, streams and functions refused per key', async () => {
      const fx = loadExpected('redis-7.4', { aliveAt: Date.now() });
      const run = await restoreInto(
        { host: '127.0.0.1', port: proxyPort },
        { input: fx.rdbFile as string, dbs: [0], onError: 'skip' },
      );
      const db0 = fx.records.filter((r) => r.db === 0);
      const streams = db0.filter((r) => r.type === 'stream');
      assert.ok(streams.length > 0);
      assert.equal(run.stats.restoreRaw + run.stats.restoreEncoded, 0, 'no RESTORE through a proxy');
      assert.equal(run.counters.keysWritten, db0.length - streams.length);
      // every stream key, plus the function library
      assert.equal(run.counters.failed, streams.length + 1);
      assert.ok(run.counters.failures.some((f) => /proxy target takes no stream commands/.test(f.message)));
      assert.ok(run.counters.failures.some((f) => /FUNCTION|functions/.test(f.message)));
      const aligned = alignFor70(
        db0.filter((r) => r.type !== 'stream'),
        await readKeyspace({ host: server.host, port: server.port }),
      );
      assertRecordsMatch(aligned.actual, aligned.expected);
    });

    it('several dbs through a proxy need --db-map', async () => {
      const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
      await assert.rejects(
        restoreInto({ host: '127.0.0.1', port: proxyPort }, { input: fx.rdbFile as string, onError: 'skip' }),
        /only db 0/,
      );
    });
  },
);
