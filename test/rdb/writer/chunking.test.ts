/**
 * The bytes RdbWriter produces do not depend on how they are cut: any output chunk size, any batching of
 * the value events, and whether the element count is known up front (streamed) or not (held) give the
 * same file. Together with rdb-file.test.ts (that file loads into redis 7.0) this covers every split.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { RdbWriter, type ValueEvent } from '@shake/rdb';
import { allSamples, type Sample } from './samples.js';

/** Re-cuts a key's value events into batches of `size` elements. */
function rebatch(events: ValueEvent[], size: number): ValueEvent[] {
  const out: ValueEvent[] = [];
  for (const ev of events) {
    const cut = <T>(xs: T[], make: (part: T[]) => ValueEvent): void => {
      for (let i = 0; i < xs.length; i += size) out.push(make(xs.slice(i, i + size)));
    };
    switch (ev.kind) {
      case 'list-items':
        cut(ev.items, (items) => ({ kind: 'list-items', items }));
        break;
      case 'set-members':
        cut(ev.members, (members) => ({ kind: 'set-members', members }));
        break;
      case 'zset-entries':
        cut(ev.entries, (entries) => ({ kind: 'zset-entries', entries }));
        break;
      case 'hash-entries':
        cut(ev.entries, (entries) => ({ kind: 'hash-entries', entries }));
        break;
      case 'stream-entries':
        cut(ev.entries, (entries) => ({ kind: 'stream-entries', entries }));
        break;
      default:
        out.push(ev);
    }
  }
  return out;
}

function write(samples: Sample[], chunkSize: number, batch: number, counted: boolean): { sha: string; chunks: number } {
  const hash = createHash('sha256');
  let chunks = 0;
  const w = new RdbWriter({
    rdbVersion: 10,
    chunkSize,
    aux: { ctime: 1700000000 },
    output: (c) => {
      hash.update(c);
      chunks++;
    },
  });
  for (const s of samples) {
    w.beginKey(s.header, undefined, counted ? { count: s.count } : {});
    for (const ev of rebatch(s.events, batch)) w.value(ev);
    w.endKey();
  }
  w.end();
  return { sha: hash.digest('hex'), chunks };
}

describe('writer: output independent of chunking and batching', () => {
  it('chunk sizes 1..64 KiB, batches 1..1000, count known or not: same bytes', () => {
    const samples = allSamples({ big: true });
    const ref = write(samples, 64 * 1024, 1024, false);
    for (const [chunkSize, batch, counted] of [
      [1, 1, false],
      [7, 3, true],
      [100, 1000, true],
      [4096, 17, false],
      [1 << 20, 1, true],
    ] as const) {
      const got = write(samples, chunkSize, batch, counted);
      assert.equal(got.sha, ref.sha, `chunkSize ${chunkSize}, batch ${batch}, counted ${counted}`);
    }
    assert.ok(write(samples, 1, 1, false).chunks > ref.chunks);
  });
});
