/**
 * Pending entries whose message was deleted (XDEL of a pending entry, a MAXLEN trim past unacknowledged ones)
 * survive every command path: a real 7.0 builds such streams, SAVEs them, and what it holds (XINFO STREAM FULL:
 * entries, length, first id, max-deleted id, entries-added, groups with their PELs and consumers) is the
 * reference for
 * - `decode --format resp | redis-cli --pipe` into a fresh 7.0,
 * - restore's command path (every key over the big-key threshold) into a fresh 7.0,
 * - `decode --format resp --target-version 6.2` piped into a real redis-server 6.2 (no 7.0 stream fields).
 * Consumer seen/active times are the rebuild time (no command sets them): not compared.
 * A stream too big to hold (maxHeldStreamBytes) is written as it comes and its trimmed pending entries counted.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { emptyServer, startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import type { KeyRecord, StreamRecord } from '../helpers/records.js';
import { serverBinary } from '../harness/servers.js';
import { redisCliPipe, runCli } from '../cli/helpers/run-cli.js';
import { restoreInto, withoutSeenTimes, withoutStreamV2 } from '../restore/helpers.js';
import { featuresFor } from '../../src/rewrite/features.js';
import { DEFAULT_REWRITE_LIMITS } from '../../src/rewrite/key-rewriter.js';
import { StreamRewriter } from '../../src/rewrite/stream.js';

const id = (ms: number, seq: number) => `${ms}-${seq}`;

async function buildStreams(c: Redis): Promise<void> {
  // s: 20 entries, two groups; pending entries deleted by XDEL and by a MAXLEN trim.
  for (let i = 1; i <= 20; i++) await c.xadd('s', id(1000, i), 'n', String(i), 'pad', 'x'.repeat(i));
  await c.xgroup('CREATE', 's', 'g', '0');
  await c.xgroup('CREATE', 's', 'g2', '0');
  await c.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 10, 'STREAMS', 's', '>');
  await c.xreadgroup('GROUP', 'g', 'bob', 'COUNT', 5, 'STREAMS', 's', '>');
  await c.xreadgroup('GROUP', 'g2', 'carol', 'STREAMS', 's', '>');
  await c.xclaim('s', 'g', 'bob', 0, id(1000, 2), 'RETRYCOUNT', 7);
  await c.xack('s', 'g2', id(1000, 4));
  await c.xdel('s', id(1000, 5), id(1000, 12), id(1000, 18));
  await c.xtrim('s', 'MAXLEN', 14); // 1000-1..1000-3 (pending in both groups) go
  await c.xadd('s', id(2000, 1), 'n', 'late');
  // t: every entry deleted while pending; an empty stream with a PEL.
  await c.xadd('t', id(5, 1), 'a', '1');
  await c.xadd('t', id(5, 2), 'a', '2');
  await c.xgroup('CREATE', 't', 'g', '0');
  await c.xreadgroup('GROUP', 'g', 'dave', 'STREAMS', 't', '>');
  await c.xdel('t', id(5, 1), id(5, 2));
  // u: pending entries trimmed only (max-deleted id stays 0-0).
  for (let i = 1; i <= 6; i++) await c.xadd('u', id(7, i), 'v', String(i));
  await c.xgroup('CREATE', 'u', 'g', '0');
  await c.xreadgroup('GROUP', 'g', 'erin', 'COUNT', 3, 'STREAMS', 'u', '>');
  await c.xtrim('u', 'MINID', id(7, 3));
}

describe('stream pending entries of deleted messages, through commands', () => {
  let source: RedisServer;
  let target: RedisServer;
  let reference: KeyRecord[];
  const dir = mkdtempSync(join(tmpdir(), 'shake-pel-'));
  const rdb = join(dir, 'streams.rdb');
  before(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    const c = source.client();
    await buildStreams(c);
    await c.save();
    c.disconnect();
    copyFileSync(join(source.dir, 'dump.rdb'), rdb);
    reference = withoutSeenTimes(await readKeyspace({ host: source.host, port: source.port }));
    // The reference really holds pending entries without a message: 5 + 6 in s (g, g2), 2 in t, 2 in u.
    let orphans = 0;
    for (const r of reference) {
      const v = r.value as StreamRecord;
      const ids = new Set(v.entries.map(([i]) => i));
      for (const g of v.groups) orphans += g.pel.filter(([i]) => !ids.has(i)).length;
    }
    assert.equal(orphans, 15);
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('decode --format resp | redis-cli --pipe into 7.0', async () => {
    await emptyServer(target);
    const r = await runCli(['decode', rdb, '--format', 'resp', '-q']);
    assert.equal(r.code, 0, r.stderr);
    const piped = await redisCliPipe(target.port, r.stdout);
    assert.equal(piped.errors, 0, piped.output);
    assertRecordsMatch(withoutSeenTimes(await readKeyspace({ host: target.host, port: target.port })), reference);
  });

  test('restore through commands (big-key threshold 1 byte) into 7.0', async () => {
    await emptyServer(target);
    const run = await restoreInto(target, { input: rdb, bigKeyThreshold: 1 });
    assert.deepEqual(run.counters.failures, []);
    assertRecordsMatch(withoutSeenTimes(await readKeyspace({ host: target.host, port: target.port })), reference);
  });

  test('decode --format resp --target-version 6.2 into a real redis-server 6.2', async () => {
    const old = await startRedis({ binary: serverBinary('redis-6.2') });
    try {
      const r = await runCli(['decode', rdb, '--format', 'resp', '--target-version', '6.2', '-q']);
      assert.equal(r.code, 0, r.stderr);
      const piped = await redisCliPipe(old.port, r.stdout);
      assert.equal(piped.errors, 0, piped.output);
      const actual = withoutSeenTimes(await readKeyspace({ host: old.host, port: old.port }));
      assertRecordsMatch(withoutStreamV2(actual), withoutStreamV2(reference));
    } finally {
      await old.stop();
    }
  });

  test('a stream too big to hold is written as it comes: its trimmed pending entries are counted', () => {
    const out: string[] = [];
    const w = new StreamRewriter(
      Buffer.from('k'),
      featuresFor('7.0.0', 'standalone'),
      (a) => out.push(a.join(' ')),
      64,
    );
    const e = (ms: number) => ({
      id: { ms: BigInt(ms), seq: 0n },
      fields: [[Buffer.from('f'), Buffer.alloc(40)]] as [Buffer, Buffer][],
    });
    w.push({ kind: 'stream-entries', entries: [e(10), e(11), e(12)] } as never);
    const pel = [5, 11].map((ms) => ({
      id: { ms: BigInt(ms), seq: 0n },
      consumer: Buffer.from('c'),
      deliveryTimeMs: 1,
      deliveryCount: 1,
    }));
    w.push({
      kind: 'stream-group',
      group: {
        name: Buffer.from('g'),
        lastId: { ms: 12n, seq: 0n },
        entriesRead: 3,
        pel,
        consumers: [{ name: Buffer.from('c'), seenTimeMs: 1, activeTimeMs: 1, pel: pel.map((p) => p.id) }],
      },
    } as never);
    w.end();
    assert.equal(w.lost, 1, 'the pending entry 5-0 below the first entry');
    assert.equal(out.filter((l) => l.startsWith('XCLAIM')).length, 1);
    assert.ok(DEFAULT_REWRITE_LIMITS.maxHeldStreamBytes >= 1 << 20);
  });
});
