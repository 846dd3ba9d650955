/**
 * A truncated RDB into `shake restore` (issue 14): every key complete before the cut reaches the target, the
 * one error line says how many did, and each of them equals what the server that wrote the file held.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected, repoRoot } from '../helpers/load-records.js';
import { recordId } from '../helpers/records.js';
import { alignFor70 } from './helpers.js';

describe('restore of a truncated RDB (CLI)', () => {
  let server: RedisServer;
  const dir = mkdtempSync(join(tmpdir(), 'shake-cut-'));
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [label, cut] of [
    ['redis-7.4', 150_000],
    ['redis-7.0', 60_000],
  ] as const) {
    it(`${label} cut at ${cut} bytes`, async () => {
      const fx = loadExpected(label, { aliveAt: Date.now() });
      const file = join(dir, `${label}.rdb`);
      writeFileSync(file, readFileSync(fx.rdbFile as string).subarray(0, cut));
      const c = server.client();
      await c.flushall();
      await c.function('FLUSH');
      const r = spawnSync(
        process.execPath,
        [join(repoRoot, 'bin', 'run.js'), 'restore', file, '--target', server.url],
        {
          encoding: 'utf8',
          env: { ...process.env, SHAKE_LOG_PROGRESS: 'never' },
        },
      );
      assert.equal(r.status, 1);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      const m =
        /^error: bad RDB: unexpected end of file.* at byte \d+ while reading key .* \((\d+) key\(s\) written to the target before it\)$/.exec(
          lines[0] as string,
        );
      assert.ok(m, r.stderr);
      const written = Number(m[1]);
      assert.ok(written > 10, `keys before the cut were written (${written})`);
      c.disconnect();
      // Every key on the target is a key of the file, equal to the record its own server read back.
      const actual = await readKeyspace({ host: server.host, port: server.port });
      assert.equal(actual.length, written, 'the target holds exactly the keys the error line counts');
      const ids = new Set(actual.map(recordId));
      const aligned = alignFor70(
        fx.records.filter((x) => ids.has(recordId(x))),
        actual,
      );
      assert.equal(aligned.expected.length, written);
      assertRecordsMatch(aligned.actual, aligned.expected);
    });
  }
});
