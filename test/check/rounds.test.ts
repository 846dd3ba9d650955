/**
 * A source under live writes, copied to the target with a lag (as a replica or a live copy would be): the
 * first pass sees the keys being written as different; the re-check rounds compare them again once the copy
 * caught up, and only the one difference that persists is reported, with the others counted as settled.
 * Without rounds, the same moment reports the changing keys too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { CheckStats } from '../../src/check/stats.js';
import { check, triples, NO_SYNC_DELAY } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Writer {
  writes(): number;
  /** Stops writing and waits until every delayed copy reached the target. */
  stop(): Promise<number>;
}

/** Writes hot:0..19 on the source every few ms and the same value on the target `lagMs` later, until stopped. */
function laggingWriter(src: Redis, tgt: Redis, lagMs: number): Writer {
  let stopped = false;
  let n = 0;
  // Values differ from one writer to the next, so a new writer's first writes differ from the target too.
  const run = `${Date.now()}-${Math.random()}`;
  const copies: Promise<unknown>[] = [];
  const loop = (async () => {
    while (!stopped) {
      const key = `hot:${n % 20}`;
      const value = `${run}:${n}`;
      await src.set(key, value);
      copies.push(sleep(lagMs).then(() => tgt.set(key, value)));
      n++;
      await sleep(5);
    }
  })();
  return {
    writes: () => n,
    stop: async () => {
      stopped = true;
      await loop;
      await Promise.all(copies);
      return n;
    },
  };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(10);
}

describe('shake check: re-check rounds under live writes', () => {
  let source: RedisServer;
  let target: RedisServer;
  let src: Redis;
  let tgt: Redis;
  before(async () => {
    [source, target] = await Promise.all([startRedis({ config: NO_SYNC_DELAY }), startRedis()]);
    src = source.client();
    tgt = target.client();
    for (const c of [src, tgt]) {
      const p = c.pipeline();
      for (let i = 0; i < 3000; i++) p.set(`k:${i}`, `v${i}`);
      for (let i = 0; i < 20; i++) p.set(`hot:${i}`, 'start');
      await p.exec();
    }
    await tgt.set('k:persist', 'target only value');
    await src.set('k:persist', 'source value');
  });
  after(async () => {
    src?.disconnect();
    tgt?.disconnect();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  test('changing keys settle in the rounds; only the persistent difference is reported', async () => {
    const writer = laggingWriter(src, tgt, 1000);
    await until(() => writer.writes() >= 10);
    // The writer stops once the first re-check round begins (the first pass is over): the later rounds see the
    // copy caught up.
    const stats = new CheckStats();
    void until(() => stats.rounds >= 1).then(() => writer.stop());
    const r = await check(source, target, { rounds: 5, intervalMs: 600, stats });
    await writer.stop();
    assert.deepEqual(triples(r.diffs), [[0, 'k:persist', 'value']]);
    assert.ok(
      r.summary.stats.settled >= 1,
      `settled ${r.summary.stats.settled}, found ${CheckStats.kinds(r.summary.stats.found)}, writes ${writer.writes()}, ${r.summary.elapsedMs} ms`,
    );
    assert.ok(r.summary.stats.rounds >= 1);
    assert.equal(r.summary.exitCode, 1);
  });

  test('the same moment without rounds reports the keys being written as well', async () => {
    const writer = laggingWriter(src, tgt, 300);
    await until(() => writer.writes() >= 10);
    const r = await check(source, target, { rounds: 0 });
    await writer.stop();
    const keys = triples(r.diffs).map((t) => t[1]);
    assert.ok(keys.includes('k:persist'));
    assert.ok(
      keys.some((k) => k!.startsWith('hot:')),
      JSON.stringify({ keys, writes: writer.writes(), compared: r.summary.stats.compared, ms: r.summary.elapsedMs }),
    );
    assert.equal(r.summary.stats.settled, 0);
  });
});
