/**
 * shake sync from other source versions into the system 7.0 server, each with a seeded workload during and
 * after the snapshot, ending equal to the source value by value: 2.8 (PSYNC without psync2 ids, EVAL bodies
 * propagated, RDB 6), 4.0 (psync2; scripts propagated as EVAL, then EVALSHA), 6.2 (XADD ... MAXLEN ~ N LIMIT M propagated as `MAXLEN = ... LIMIT`, which a client may
 * not send), 7.4 (RDB 12 snapshot re-encoded for 7.0) and Valkey 8.0. Then a restart resumes with PSYNC.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { serverBinary, type ServerLabel } from '../harness/servers.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import type { StreamRecord } from '../helpers/records.js';
import {
  nameOf,
  sleep,
  standaloneCheckpoint,
  startSync,
  stateDir,
  syncStats,
  userKeys,
  waitApplied,
  waitStreaming,
  withoutEntriesRead,
  withoutUnreplicatedConsumers,
  STREAM_TIMES,
} from './helpers.js';
import { runWorkload } from './workload.js';

const VERSIONS: { label: ServerLabel; major: number; limit: boolean }[] = [
  { label: 'redis-2.8', major: 2, limit: false },
  { label: 'redis-4.0', major: 4, limit: false },
  { label: 'redis-6.2', major: 6, limit: true },
  { label: 'redis-7.4', major: 7, limit: true },
  { label: 'valkey-8.0', major: 7, limit: true },
];

for (const v of VERSIONS) {
  describe(`sync ${v.label} -> 7.0`, () => {
    let source: RedisServer;
    let target: RedisServer;
    let src: Redis;
    let dst: Redis;
    const dir = stateDir();
    before(async () => {
      const binary = serverBinary(v.label);
      [source, target] = await Promise.all([
        startRedis({ binary, before32: v.major < 3, config: { 'repl-backlog-size': '16mb' } }),
        startRedis(),
      ]);
      src = source.client();
      dst = target.client();
      await runWorkload(src, { seed: 51, ops: 800, major: v.major, limit: v.limit });
    });
    after(async () => {
      src?.disconnect();
      dst?.disconnect();
      await Promise.all([source?.stop(), target?.stop()]);
    });

    /** Value by value; stream metadata the source's version cannot report (null there) is not compared. */
    async function assertSame(): Promise<void> {
      const expected = withoutUnreplicatedConsumers(withoutEntriesRead(await readKeyspace(source)));
      const byId = new Map(expected.map((r) => [`${r.db}:${r.key_b64}`, r]));
      const actual = withoutUnreplicatedConsumers(withoutEntriesRead(userKeys(await readKeyspace(target)))).map((r) => {
        const e = byId.get(`${r.db}:${r.key_b64}`);
        if (r.type !== 'stream' || e?.type !== 'stream') return r;
        const ev = e.value as StreamRecord;
        const value = { ...(r.value as StreamRecord) };
        for (const f of ['first_id', 'max_deleted_entry_id', 'entries_added'] as const) {
          if (ev[f] === null || ev[f] === undefined) value[f] = ev[f];
        }
        return { ...r, value };
      });
      assertRecordsMatch(actual, expected, STREAM_TIMES);
    }

    test('snapshot + stream, then a restart with PSYNC: equal to the source', async () => {
      const stats0 = await syncStats(src);
      let run = startSync(source, target, { stateDir: dir });
      await runWorkload(src, { seed: 52, ops: 800, major: v.major, limit: v.limit });
      await waitStreaming(run.progress);
      await runWorkload(src, { seed: 53, ops: 1200, major: v.major, limit: v.limit });
      await sleep(400);
      await waitApplied(src, standaloneCheckpoint(dst, nameOf(source)), 30_000, run);
      let link = (await run.stop()).links[0]!;
      assert.equal(link.counters.failed, 0, JSON.stringify(link.counters.failures));
      await assertSame();

      await runWorkload(src, { seed: 54, ops: 500, major: v.major, limit: v.limit });
      run = startSync(source, target, { stateDir: dir });
      await sleep(300);
      await waitApplied(src, standaloneCheckpoint(dst, nameOf(source)), 30_000, run);
      link = (await run.stop()).links[0]!;
      assert.equal(link.counters.failed, 0, JSON.stringify(link.counters.failures));
      assert.equal(link.partialSyncs, 1);
      const stats1 = await syncStats(src);
      assert.equal(stats1.full, stats0.full + 1);
      assert.equal(stats1.partialOk, stats0.partialOk + 1);
      await assertSame();
    });
  });
}
