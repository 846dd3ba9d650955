import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EncodedCommands } from '@shake/resp';
import { Counters } from '../../src/core/counters.js';
import { runPipeline } from '../../src/core/pipeline.js';
import { connect, type RedisConnection } from '../../src/redis/index.js';
import { RdbFileSink } from '../../src/sinks/rdb-file.js';
import { ScanSource, type ScanConnection } from '../../src/sources/scan.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { expectedAfterReload, readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { checkRdb, loadInFreshServer } from './helpers.js';

/**
 * A real connection with a hook after each SCAN reply: the test acts on the server (delete a key the page
 * just listed) or on the reply (list a key again, as SCAN does when the table shrinks) at an exact point.
 */
function withScanHook(conn: RedisConnection, hook: (keys: Buffer[]) => Promise<void>): ScanConnection {
  const after = async (argv: ReadonlyArray<string | Buffer>, reply: unknown): Promise<unknown> => {
    if (String(argv[0]) === 'SCAN' && Array.isArray(reply) && Array.isArray(reply[1])) await hook(reply[1] as Buffer[]);
    return reply;
  };
  return {
    call: async (argv) => after(argv, await conn.call(argv)),
    sendBatch: async (argvs) => {
      const replies = await conn.sendBatch(argvs);
      for (let i = 0; i < argvs.length; i++) {
        const argv = argvs[i]!;
        if (argv instanceof EncodedCommands) throw new Error('ScanSource sends no pre-encoded commands');
        await after(argv, replies[i]);
      }
      return replies;
    },
  };
}

async function scanToFile(conn: ScanConnection, path: string, counters: Counters, extra = {}): Promise<ScanSource> {
  const source = new ScanSource(conn, { counters, scanCount: 1000, ...extra });
  const sink = await RdbFileSink.open(path, { fsync: false });
  await runPipeline(source, [], sink);
  return source;
}

describe('ScanSource on a live server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-scansrc-'));
  let server: RedisServer;
  let conn: RedisConnection;
  before(async () => {
    server = await startRedis();
    conn = await connect({ host: server.host, port: server.port });
  });
  after(async () => {
    await conn.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('keys deleted between SCAN and DUMP are counted as vanished; keys listed twice are written once', async () => {
    await conn.callOrThrow(['FLUSHALL']);
    const batch: string[][] = [];
    for (let i = 0; i < 2000; i++) batch.push(['SET', `k${i}`, `v${i}`]);
    await conn.sendBatch(batch);
    const admin = await connect({ host: server.host, port: server.port });
    const deleted: string[] = [];
    let first: Buffer | null = null;
    let pages = 0;
    const hooked = withScanHook(conn, async (keys) => {
      pages++;
      if (keys.length > 0 && pages % 3 === 0) {
        deleted.push(keys[0]!.toString());
        await admin.callOrThrow(['DEL', keys[0]!]);
      }
      if (first && pages % 4 === 0) keys.push(first);
      first ??= keys[keys.length - 1] ?? null;
    });
    const counters = new Counters();
    const path = join(dir, 'vanish.rdb');
    const source = await scanToFile(hooked, path, counters, { scanCount: 50 });
    await admin.close();
    assert.ok(deleted.length > 5 && source.info.duplicates > 5, `${deleted.length} / ${source.info.duplicates}`);
    assert.equal(counters.skipped.get('vanished'), deleted.length);
    assert.equal(counters.keysRead, 2000 - deleted.length);
    assert.equal(checkRdb(path).status, 0);
    const loaded = await loadInFreshServer(path);
    try {
      const c = loaded.client();
      assert.equal(await c.dbsize(), 2000 - deleted.length);
      assert.equal(await c.exists(...deleted), 0);
      c.disconnect();
    } finally {
      await loaded.stop();
    }
  });

  test('the PTTL path (servers before 7.0): expiries are now + PTTL, within a few ms', async () => {
    const fx = loadExpected('redis-7.0');
    const src = await startRedis({ rdbFile: fx.rdbFile });
    const c = await connect({ host: src.host, port: src.port });
    const path = join(dir, 'pttl.rdb');
    try {
      const source = await scanToFile(c, path, new Counters(), { expiry: 'pttl', scanCount: 13 });
      assert.equal(source.info.facts?.hasPexpiretime, false);
    } finally {
      await c.close();
      await src.stop();
    }
    const loaded = await loadInFreshServer(path);
    try {
      const approx = fx.records.map((r) =>
        expectedAfterReload(r.expire_at_ms === null ? r : { ...r, expire_approx: true }),
      );
      assertRecordsMatch(await readKeyspace({ host: loaded.host, port: loaded.port }), approx, { approxMs: 1000 });
    } finally {
      await loaded.stop();
    }
  });

  test('--db: only the chosen databases, with their RESIZEDB hints', async () => {
    const fx = loadExpected('redis-7.0');
    const src = await startRedis({ rdbFile: fx.rdbFile });
    const c = await connect({ host: src.host, port: src.port });
    const path = join(dir, 'db15.rdb');
    try {
      await scanToFile(c, path, new Counters(), { dbs: [1, 15] });
    } finally {
      await c.close();
      await src.stop();
    }
    const loaded = await loadInFreshServer(path);
    try {
      const want = fx.records.filter((r) => r.db === 1 || r.db === 15).map(expectedAfterReload);
      assertRecordsMatch(await readKeyspace({ host: loaded.host, port: loaded.port }), want);
    } finally {
      await loaded.stop();
    }
  });
});
