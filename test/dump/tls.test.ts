import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { tlsSupport } from '../harness/tls-support.js';
import { loadExpected } from '../helpers/load-records.js';
import { assertLoadsAs, repoRoot } from './helpers.js';

const support = await tlsSupport();

describe(
  'shake dump over TLS (rediss://, certificate checked against the test CA)',
  { skip: support.supported ? false : support.reason },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'shake-dumptls-'));
    const fx = loadExpected('redis-7.0');
    let source: RedisServer;
    before(async () => {
      source = await startRedis({ rdbFile: fx.rdbFile, tls: true, config: { 'repl-diskless-sync-delay': '0' } });
    });
    after(async () => {
      await source.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const mode of ['replication', 'scan'] as const) {
      test(`--mode ${mode}`, async () => {
        const out = join(dir, `${mode}.rdb`);
        const env = {
          ...process.env,
          SHAKE_SOURCE_TLS_CA: source.tls!.caCertFile,
          SHAKE_SOURCE_TLS_CERT: source.tls!.clientCertFile,
          SHAKE_SOURCE_TLS_KEY: source.tls!.clientKeyFile,
        };
        const r = spawnSync(
          process.execPath,
          [join(repoRoot, 'bin', 'run.js'), 'dump', '--source', source.url, '-o', out, '--mode', mode],
          {
            encoding: 'utf8',
            env,
            timeout: 60_000,
          },
        );
        assert.equal(r.status, 0, r.stderr);
        await assertLoadsAs(out, fx.records);
      });
    }

    test('without the CA the certificate is refused', () => {
      const r = spawnSync(
        process.execPath,
        [join(repoRoot, 'bin', 'run.js'), 'dump', '--source', source.url, '-o', join(dir, 'x.rdb')],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^error: cannot connect to redis at 127\.0\.0\.1:\d+: .*(certificate|self.signed)/im);
    });
  },
);
