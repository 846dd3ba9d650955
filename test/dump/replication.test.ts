import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { dumpSnapshot, type MasterSocket } from '../../src/replica/snapshot-dump.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { expectedAfterReload, readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { DEBUG_ON, checkRdb, debugDigest, fixtureRdb, keyspaceCounts, loadInFreshServer } from './helpers.js';

/** Each library's source (FUNCTION LIST WITHCODE: flat name/value pairs per library), sorted. */
async function libraryCode(c: Redis): Promise<string[]> {
  const libs = (await c.call('FUNCTION', 'LIST', 'WITHCODE')) as unknown[][];
  return libs.map((l) => String(l[l.indexOf('library_code') + 1])).sort();
}

function plainOpener(server: RedisServer): () => Promise<MasterSocket> {
  return () =>
    new Promise((resolve, reject) => {
      const socket = connect(server.port, server.host);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve({ socket, peer: `${server.host}:${server.port}`, localPort: socket.localPort ?? 0 });
      });
    });
}

describe('dump via replication (7.0 fixture loaded in the source)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-dump-'));
  const expected = loadExpected('redis-7.0').records.map(expectedAfterReload);
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const diskless of [false, true]) {
    describe(diskless ? 'diskless ($EOF:<mark>)' : 'disk ($<len>)', () => {
      let source: RedisServer;
      before(async () => {
        source = await startRedis({
          rdbFile: fixtureRdb('redis-7.0'),
          config: diskless
            ? { ...DEBUG_ON, 'repl-diskless-sync': 'yes', 'repl-diskless-sync-delay': '0' }
            : { ...DEBUG_ON, 'repl-diskless-sync': 'no' },
        });
      });
      after(() => source.stop());

      test('file passes redis-check-rdb and loads with the same digest and keyspace', async () => {
        const path = join(dir, `dump-${diskless ? 'eof' : 'len'}.rdb`);
        const progress: number[] = [];
        const res = await dumpSnapshot({
          open: plainOpener(source),
          path,
          timeoutMs: 60_000,
          onProgress: (p) => progress.push(p.bytes),
        });
        assert.equal(res.form, diskless ? 'diskless' : 'disk');
        assert.equal(res.resync.via, 'psync');
        assert.equal(res.resync.rdbOnly, true);
        assert.equal(res.rdbVersion, 10);
        assert.notEqual(res.checksum, null);
        assert.equal(statSync(path).size, res.bytes);
        assert.equal(progress.at(-1), res.bytes);
        // No temporary file left behind.
        assert.deepEqual(
          readdirSync(dir).filter((f) => f.endsWith('.tmp')),
          [],
        );
        const check = checkRdb(path);
        assert.equal(check.status, 0, check.output);

        const loaded = await loadInFreshServer(path);
        const a = source.client();
        const b = loaded.client();
        try {
          assert.deepEqual(await keyspaceCounts(b), await keyspaceCounts(a));
          assert.equal(await debugDigest(b), await debugDigest(a));
          assertRecordsMatch(await readKeyspace({ host: loaded.host, port: loaded.port }), expected);
          assert.deepEqual(await libraryCode(b), await libraryCode(a));
          assert.equal((await libraryCode(b)).length, 1);
        } finally {
          a.disconnect();
          b.disconnect();
          await loaded.stop();
        }
      });
    });
  }
});
