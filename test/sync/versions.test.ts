/**
 * shake sync from other source versions into the system 7.0 server, each with a seeded workload during and
 * after the snapshot, ending equal to the source value by value: 2.8 (PSYNC without psync2 ids, EVAL bodies
 * propagated, RDB 6), 4.0 (psync2; scripts propagated as EVAL, then EVALSHA), 6.2 (XADD ... MAXLEN ~ N LIMIT M propagated as `MAXLEN = ... LIMIT`, which a client may
 * not send), 7.2, 7.4 (RDB 12 snapshot re-encoded for 7.0), 8.0-m01 and Valkey 8.0; each also into a server of its own
 * version, where the two DEBUG DIGESTs must agree too. Then a restart resumes with PSYNC.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { serverPair } from '../harness/server-pair.js';
import { serverBinary, type ServerLabel } from '../harness/servers.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import type { StreamRecord } from '../helpers/records.js';
import {
  assertNoFailures,
  assertSameDigest,
  sleep,
  stateDir,
  syncPair,
  syncStats,
  userKeys,
  waitStreaming,
  withoutEntriesRead,
  withoutUnreplicatedConsumers,
  STREAM_TIMES,
} from './helpers.js';
import { expireDue, runWorkload } from './workload.js';

const VERSIONS: { label: ServerLabel; major: number; limit: boolean }[] = [
  { label: 'redis-2.8', major: 2, limit: false },
  { label: 'redis-4.0', major: 4, limit: false },
  { label: 'redis-6.2', major: 6, limit: true },
  { label: 'redis-7.2', major: 7, limit: true },
  { label: 'redis-7.4', major: 7, limit: true },
  { label: 'redis-8.0-m01', major: 7, limit: true },
  { label: 'valkey-8.0', major: 7, limit: true },
];

// Each source into the system 7.0 server, and into a server of its own version (there the servers' own DEBUG
// DIGEST must agree as well).
for (const v of VERSIONS)
  for (const sameVersion of [false, true]) {
    describe(`sync ${v.label} -> ${sameVersion ? v.label : '7.0'}`, () => {
      const dir = stateDir();
      const own = (): { binary: string; before32: boolean } => ({
        binary: serverBinary(v.label),
        before32: v.major < 3,
      });
      // DEBUG (DIGEST) is off by default in the 7.x and Valkey builds.
      const debug: Record<string, string> = v.major >= 7 ? { 'enable-debug-command': 'yes' } : {};
      const p = serverPair(
        () => ({ ...own(), config: { 'repl-backlog-size': '16mb', ...debug } }),
        () => (sameVersion ? { ...own(), config: debug } : {}),
      );
      before(() => runWorkload(p.src, { seed: 51, ops: 800, major: v.major, limit: v.limit }));

      /** Value by value; stream metadata the source's version cannot report (null there) is not compared. */
      async function assertSame(): Promise<void> {
        const expected = withoutUnreplicatedConsumers(withoutEntriesRead(await readKeyspace(p.source)));
        const byId = new Map(expected.map((r) => [`${r.db}:${r.key_b64}`, r]));
        const actual = withoutUnreplicatedConsumers(withoutEntriesRead(userKeys(await readKeyspace(p.target)))).map(
          (r) => {
            const e = byId.get(`${r.db}:${r.key_b64}`);
            if (r.type !== 'stream' || e?.type !== 'stream') return r;
            const ev = e.value as StreamRecord;
            const value = { ...(r.value as StreamRecord) };
            for (const f of ['first_id', 'max_deleted_entry_id', 'entries_added'] as const) {
              if (ev[f] === null || ev[f] === undefined) value[f] = ev[f];
            }
            return { ...r, value };
          },
        );
        assertRecordsMatch(actual, expected, STREAM_TIMES);
      }

      test('snapshot + stream, then a restart with PSYNC: equal to the source', async () => {
        const { src } = p;
        const stats0 = await syncStats(src);
        let run = syncPair(p, { stateDir: dir });
        await runWorkload(src, { seed: 52, ops: 800, major: v.major, limit: v.limit });
        await waitStreaming(run.progress);
        await runWorkload(src, { seed: 53, ops: 1200, major: v.major, limit: v.limit });
        await sleep(400);
        await expireDue(src);
        let link = (await run.finish()).links[0]!;
        assertNoFailures(link);
        await assertSame();

        await runWorkload(src, { seed: 54, ops: 500, major: v.major, limit: v.limit });
        run = syncPair(p, { stateDir: dir });
        await sleep(300);
        await expireDue(src);
        link = (await run.finish()).links[0]!;
        assertNoFailures(link);
        assert.equal(link.partialSyncs, 1);
        const stats1 = await syncStats(src);
        assert.equal(stats1.full, stats0.full + 1);
        assert.equal(stats1.partialOk, stats0.partialOk + 1);
        await assertSame();
        // Last: the digest is taken with shake's checkpoint key deleted from the target.
        if (sameVersion) await assertSameDigest(p);
      });
    });
  }
