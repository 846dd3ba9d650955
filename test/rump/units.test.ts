/**
 * rump's pieces on their own: rate limiter (fake clock), notify-keyspace-events values (as notify.c reads
 * them), key-event channel names, the pending set (debounce, per-db pages, overflow), keys-file lines split
 * at every byte boundary, the payload gate on every fixture payload and on corrupted ones (fuzz: never
 * throws, a bad payload is a counted failure), slot routing and filters.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { RdbParser, type RdbEvent } from '@shake/rdb';
import { keySlot } from '../../src/cluster/index.js';
import { Counters } from '../../src/core/counters.js';
import type { Entry } from '../../src/core/entry.js';
import { featuresFor } from '../../src/rewrite/features.js';
import { nameFilter, readFilters } from '../../src/rump/filters.js';
import { splitKeyLines } from '../../src/rump/keys-file.js';
import { checkNotifyValue } from '../../src/rump/notify-flags.js';
import { PayloadGate } from '../../src/rump/payload-gate.js';
import { PendingKeys } from '../../src/rump/pending.js';
import { RateLimiter, type RateClock } from '../../src/rump/rate-limit.js';
import { keyOnNode, slotRouter, type SourceNode } from '../../src/rump/source-nodes.js';
import { RateMeter, RumpStats, progressLine } from '../../src/rump/stats.js';
import { parseKeyeventChannel } from '../../src/rump/subscriber.js';
import { loadExpected } from '../helpers/load-records.js';
import { prng, randomInt } from '../helpers/prng.js';

function fakeClock(): RateClock & { t: number; slept: number[] } {
  const c = {
    t: 0,
    slept: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
    },
  };
  return c;
}

describe('RateLimiter', () => {
  test('keys/s: one second of burst, then the rate', async () => {
    const clock = fakeClock();
    const l = new RateLimiter({ keysPerSec: 1000, bytesPerSec: 0 }, clock);
    l.charge(1000, 0);
    await l.wait();
    assert.deepEqual(clock.slept, [], 'the burst is free');
    l.charge(500, 0);
    await l.wait();
    assert.deepEqual(clock.slept, [500]);
    clock.t += 2000; // idle time refills at most one second of burst
    l.charge(1500, 0);
    await l.wait();
    assert.deepEqual(clock.slept, [500, 500]);
  });

  test('bytes/s and keys/s: the slower one decides', async () => {
    const clock = fakeClock();
    const l = new RateLimiter({ keysPerSec: 1000, bytesPerSec: 10_000 }, clock);
    l.charge(100, 30_000);
    await l.wait();
    assert.deepEqual(clock.slept, [2000]);
  });

  test('unlimited never waits; page sizes follow the key rate', async () => {
    const clock = fakeClock();
    const l = new RateLimiter({ keysPerSec: 0, bytesPerSec: 0 }, clock);
    l.charge(1e9, 1e12);
    await l.wait();
    assert.equal(l.unlimited, true);
    assert.deepEqual(clock.slept, []);
    assert.equal(l.pageSize(1000), 1000);
    assert.equal(new RateLimiter({ keysPerSec: 20_000, bytesPerSec: 0 }).pageSize(1000), 100);
    assert.equal(new RateLimiter({ keysPerSec: 50, bytesPerSec: 0 }).pageSize(1000), 10);
    assert.equal(new RateLimiter({ keysPerSec: 1e7, bytesPerSec: 0 }).pageSize(1000), 1000);
  });

  test('an aborted signal ends the wait at once', async () => {
    const l = new RateLimiter({ keysPerSec: 1, bytesPerSec: 0 });
    l.charge(1000, 0);
    const ac = new AbortController();
    ac.abort();
    const t0 = Date.now();
    await l.wait(ac.signal);
    assert.ok(Date.now() - t0 < 100);
  });
});

describe('notify-keyspace-events values', () => {
  test('what rump --live accepts and what it reports missing', () => {
    assert.deepEqual(checkNotifyValue('KEA'), { ok: true, missing: [] });
    assert.deepEqual(checkNotifyValue('AE'), { ok: true, missing: [] });
    assert.deepEqual(checkNotifyValue('Eg$lshzxet'), { ok: true, missing: [] });
    assert.deepEqual(checkNotifyValue('KA').missing, ['E']);
    assert.deepEqual(checkNotifyValue('').missing, ['E', 'g', '$', 'l', 's', 'h', 'z', 'x', 'e', 't']);
    assert.deepEqual(checkNotifyValue('$E').missing, ['g', 'l', 's', 'h', 'z', 'x', 'e', 't']);
    assert.deepEqual(checkNotifyValue('Eg$lshzxt').missing, ['e']);
  });

  test('key-event channel names', () => {
    assert.deepEqual(parseKeyeventChannel(Buffer.from('__keyevent@0__:set')), { db: 0, event: 'set' });
    assert.deepEqual(parseKeyeventChannel(Buffer.from('__keyevent@15__:expired')), { db: 15, event: 'expired' });
    assert.equal(parseKeyeventChannel(Buffer.from('__keyspace@0__:mykey')), null);
    assert.equal(parseKeyeventChannel(Buffer.from('__keyevent@x__:set')), null);
    assert.equal(parseKeyeventChannel(Buffer.from('__keyevent@1')), null);
  });
});

describe('PendingKeys', () => {
  test('debounce: due after the window, repeats collapse, pages of one db', () => {
    let now = 1000;
    const p = new PendingKeys({ debounceMs: 100, maxKeys: 10, now: () => now });
    p.add(0, Buffer.from('a'));
    p.add(1, Buffer.from('b'));
    p.add(0, Buffer.from('a'));
    p.add(0, Buffer.from('c'));
    assert.equal(p.size, 3);
    assert.equal(p.events, 4);
    assert.equal(p.takeDue(10), null);
    assert.equal(p.nextDueIn(), 100);
    now += 100;
    assert.deepEqual(p.takeDue(10), { db: 0, keys: [Buffer.from('a'), Buffer.from('c')] });
    assert.deepEqual(p.takeDue(10), { db: 1, keys: [Buffer.from('b')] });
    assert.equal(p.nextDueIn(), null);
    p.add(0, Buffer.from('a'));
    assert.equal(p.size, 1, 'a key taken can be pending again');
  });

  test('pages are capped; overflow drops the set and raises the flag', () => {
    const p = new PendingKeys({ debounceMs: 0, maxKeys: 5, now: () => 0 });
    for (let i = 0; i < 5; i++) p.add(0, Buffer.from(`k${i}`));
    assert.equal(p.takeDue(2)?.keys.length, 2);
    for (let i = 5; i < 9; i++) p.add(0, Buffer.from(`k${i}`));
    assert.equal(p.overflowed, true);
    assert.equal(p.size, 2, 'after the drop only what came since is kept');
  });

  test('waitForWork resolves on add and on timeout', async () => {
    const p = new PendingKeys({ debounceMs: 0, maxKeys: 5 });
    const w = p.waitForWork(null);
    p.add(0, Buffer.from('x'));
    await w;
    const t0 = Date.now();
    await p.waitForWork(20);
    assert.ok(Date.now() - t0 >= 15);
  });
});

describe('keys file lines', () => {
  const text = Buffer.from('alpha\r\nbeta\n\n\xff\xfe binary\ngamma\r\n\nlast-without-newline', 'latin1');
  const expected = ['alpha', 'beta', '\xff\xfe binary', 'gamma', 'last-without-newline'];

  async function collect(chunks: Buffer[], pageSize = 2): Promise<string[]> {
    async function* gen(): AsyncGenerator<Buffer> {
      yield* chunks;
    }
    const out: string[] = [];
    for await (const page of splitKeyLines(gen(), pageSize)) {
      assert.ok(page.length <= pageSize);
      for (const k of page) out.push(k.toString('latin1'));
    }
    return out;
  }

  test('whole, byte by byte, and split at every boundary', async () => {
    assert.deepEqual(await collect([text]), expected);
    assert.deepEqual(await collect([...text].map((b) => Buffer.of(b))), expected);
    for (let i = 0; i <= text.length; i++) {
      assert.deepEqual(await collect([text.subarray(0, i), text.subarray(i)], 3), expected, `split at ${i}`);
    }
  });
});

/** Every key of a fixture RDB as scan-source entries (key-start + key-end with its DUMP body). */
function fixtureEntries(label: string): { version: number; keys: Entry[][] } {
  const fx = loadExpected(label, { aliveAt: Date.now() });
  const parser = new RdbParser({ captureRawLimit: 1 << 30 });
  const events: RdbEvent[] = [...parser.push(readFileSync(fx.rdbFile as string)), ...(parser.done ? [] : parser.end())];
  let version = 0;
  const keys: Entry[][] = [];
  for (const e of events) {
    if (e.kind === 'header') version = e.version;
    if (e.kind === 'key-end') keys.push([{ kind: 'key-start', header: e.header }, e]);
  }
  return { version, keys };
}

describe('PayloadGate', () => {
  const target70 = { kind: 'standalone' as const, features: featuresFor('7.0.15', 'standalone'), rdbVersion: 10 };

  test('7.2 bodies for 7.0: loadable ids pass as raw, the others become value events', () => {
    const { version, keys } = fixtureEntries('redis-7.2');
    const counters = new Counters();
    const gate = new PayloadGate({ target: target70, counters, bigKeyThreshold: 1 << 30 });
    let decoded = 0;
    for (const k of keys) {
      const out = gate.apply([{ kind: 'header', magic: 'REDIS', version, offset: 0 }, ...k]);
      const end = out.at(-1);
      assert.equal(end?.kind, 'key-end');
      if (end?.kind === 'key-end' && end.raw === undefined) {
        decoded++;
        assert.ok(out.length > 3, 'value events between key-start and key-end');
        assert.ok([20, 21].includes(end.header.rdbType), `type ${end.header.rdbType}`);
      }
    }
    assert.equal(decoded, 8 + 16, 'SET_LISTPACK and STREAM_LISTPACKS_3 keys (meta.json rdb_scan)');
    assert.equal(gate.stats.decodedForVersion, decoded);
    assert.equal(counters.failed, 0);
  });

  test('bodies over the big-key threshold become value events (commands), whatever the version', () => {
    const { version, keys } = fixtureEntries('redis-7.0');
    const gate = new PayloadGate({ target: target70, counters: new Counters(), bigKeyThreshold: 1000 });
    for (const k of keys) gate.apply([{ kind: 'header', magic: 'REDIS', version, offset: 0 }, ...k]);
    assert.ok(gate.stats.decodedForSize > 0);
    assert.equal(gate.stats.decodedForVersion, 0);
  });

  test('fuzz: flipped and truncated bodies are counted failures or decoded, never a throw or a hang', () => {
    const { version, keys } = fixtureEntries('redis-7.2');
    const counters = new Counters();
    const oldTarget = { kind: 'standalone' as const, features: featuresFor('5.0.0', 'standalone'), rdbVersion: 9 };
    const gate = new PayloadGate({ target: oldTarget, counters, bigKeyThreshold: 1 << 30 });
    const random = prng(42);
    const rnd = (n: number): number => randomInt(random, n);
    let runs = 0;
    for (const k of keys) {
      const end = k[1];
      if (end?.kind !== 'key-end' || !end.raw || end.raw.length === 0) continue;
      for (let i = 0; i < 30; i++) {
        const body = Buffer.from(end.raw);
        if (i % 3 === 0) {
          const at = rnd(body.length);
          body[at] = (body[at] ?? 0) ^ (1 << rnd(8));
        }
        const cut = i % 3 === 1 ? body.subarray(0, rnd(body.length)) : body;
        gate.apply([
          { kind: 'header', magic: 'REDIS', version, offset: 0 },
          k[0] as Entry,
          { kind: 'key-end', header: end.header, raw: cut },
        ]);
        runs++;
      }
    }
    assert.ok(runs > 1000);
    assert.ok(counters.failed > 0, 'corrupt payloads are counted');
    for (const f of counters.failures) assert.match(f.message, /DUMP payload \(RDB 11, type \d+\) cannot be read/);
  });
});

describe('source routing and filters', () => {
  const nodes: SourceNode[] = [0, 1, 2].map((i) => ({
    addr: `h:${i}`,
    connection: { host: 'h', port: i },
    role: 'master',
    master: { host: 'h', port: i },
    slots: [[Math.floor((i * 16384) / 3), Math.floor(((i + 1) * 16384) / 3) - 1]],
    cluster: true,
  }));

  test('keys go to the node serving their slot; probe keys land on their node', () => {
    const route = slotRouter(nodes);
    for (const k of ['a', 'b', '{user}:1', 'foo', '']) {
      const slot = keySlot(Buffer.from(k));
      const i = route(Buffer.from(k));
      const [s, e] = nodes[i]!.slots[0]!;
      assert.ok(slot >= s && slot <= e, k);
    }
    for (const [i, n] of nodes.entries()) assert.equal(route(Buffer.from(keyOnNode(n, 'shake-rump-probe:x:'))), i);
    assert.equal(slotRouter([{ ...nodes[0]!, cluster: false, slots: [] }])(Buffer.from('x')), 0);
  });

  test('name filter (events, keys file) and read filters (type-changed, exclusions)', () => {
    const f = nameFilter({ dbs: [0, 2], match: 'user:*', excludeGlobs: ['user:tmp*'], keyRegex: /\d$/ });
    assert.ok(f);
    assert.equal(f(0, Buffer.from('user:1')), true);
    assert.equal(f(1, Buffer.from('user:1')), false);
    assert.equal(f(2, Buffer.from('user:tmp1')), false);
    assert.equal(f(0, Buffer.from('user:x')), false);
    assert.equal(nameFilter({}), null);

    const counters = new Counters();
    const transforms = readFilters({ excludeGlobs: ['skip*'] }, counters, 'hash');
    const header = (key: string, type: 'hash' | 'string') => ({
      db: 0,
      key: Buffer.from(key),
      type,
      rdbType: type === 'hash' ? 16 : 0,
      encoding: 'listpack' as const,
      expireAtMs: null,
      offset: 0,
    });
    let batch: Entry[] = [];
    for (const [k, t] of [
      ['h1', 'hash'],
      ['s1', 'string'],
      ['skip1', 'hash'],
    ] as const) {
      const h = header(k, t);
      batch.push({ kind: 'key-start', header: h }, { kind: 'key-end', header: h, raw: Buffer.alloc(1) });
    }
    for (const t of transforms) batch = t.apply(batch);
    assert.deepEqual(
      batch.map((e) => (e.kind === 'key-start' ? e.header.key.toString() : e.kind)),
      ['h1', 'key-end'],
    );
    assert.equal(counters.skipped.get('type-changed'), 1);
    assert.equal(counters.skipped.get('filtered'), 1);
  });
});

describe('progress line', () => {
  test('counts, rate, estimate of completion while scanning; live counters after', () => {
    const stats = new RumpStats();
    const c = new Counters();
    stats.phase = 'scanning';
    stats.addTotal(10_000);
    c.keysRead = 3000;
    c.keysWritten = 2990;
    c.skip('vanished', 10);
    c.fail({ key: null, db: null, message: 'x' });
    const line = progressLine(stats, c, 1000);
    assert.match(
      line,
      /^scanning {2}scanned 3,010\/10,000 {2}copied 2,990 {2}skipped 10 {2}failed 1 {2}1,000 keys\/s {2}~7s left$/,
    );
    stats.phase = 'live';
    stats.live.events = 5;
    stats.live.pending = 2;
    assert.match(progressLine(stats, c, 0), /events 5, re-copied 0, deleted 0, pending 2$/);
    const m = new RateMeter(1000);
    m.update(0, 0);
    assert.equal(m.update(500, 500), 1000);
  });
});
