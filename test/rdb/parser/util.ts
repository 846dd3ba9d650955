/** Shared bits of the parser tests: fixture paths, whole/split parsing, expected.jsonl loading. */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RdbParser, type RdbEvent, type RdbParserOptions } from '@shake/rdb';
import type { KeyRecord } from '../../helpers/records.js';

/** dist/test/rdb/parser -> repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const fixturesDir = join(repoRoot, '..', 'shared', 'fixtures');
export const rdbFixturesDir = join(fixturesDir, 'rdb');
export const thirdPartyDirs = [
  join(fixturesDir, 'third-party', 'redis-tests-assets'),
  join(fixturesDir, 'third-party', 'rdbtools-dumps'),
];

/** Labels of the generated fixtures (redis-7.4, valkey-8.0, ...). */
export function fixtureLabels(): string[] {
  return readdirSync(rdbFixturesDir)
    .filter((f) => f.endsWith('.rdb'))
    .map((f) => f.slice(0, -4))
    .sort();
}

export function thirdPartyFiles(): string[] {
  const out: string[] = [];
  for (const dir of thirdPartyDirs) {
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.rdb')) out.push(join(dir, f));
  }
  return out;
}

export function readExpected(label: string): KeyRecord[] {
  return readFileSync(join(rdbFixturesDir, `${label}.expected.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as KeyRecord);
}

export interface FixtureMeta {
  rdb_version: number;
  keys: Record<string, number>;
  functions?: { library_code: string }[];
  rdb_scan: { aux?: Record<string, string>; keys_in_file: number };
}

export function readMeta(label: string): FixtureMeta {
  return JSON.parse(readFileSync(join(rdbFixturesDir, `${label}.meta.json`), 'utf8')) as FixtureMeta;
}

/** Parse `data` pushed in pieces ending at the given offsets (ascending; the rest follows), then end(). */
export function parseSplit(data: Buffer, cuts: number[], opts?: RdbParserOptions): RdbEvent[] {
  const p = new RdbParser(opts);
  const events: RdbEvent[] = [];
  let from = 0;
  for (const cut of cuts) {
    if (cut <= from || cut >= data.length) continue;
    for (const e of p.push(data.subarray(from, cut))) events.push(e);
    from = cut;
  }
  for (const e of p.push(data.subarray(from))) events.push(e);
  for (const e of p.end()) events.push(e);
  return events;
}

export function parseWhole(data: Buffer, opts?: RdbParserOptions): RdbEvent[] {
  return parseSplit(data, [], opts);
}

/** Parse feeding `step` bytes at a time. */
export function parseInSteps(data: Buffer, step: number, opts?: RdbParserOptions): RdbEvent[] {
  const cuts: number[] = [];
  for (let i = step; i < data.length; i += step) cuts.push(i);
  return parseSplit(data, cuts, opts);
}

export { prng } from '../../helpers/prng.js';

/** A canonical, comparable rendering of events (Buffers as hex, bigints as strings). */
export function canonical(events: RdbEvent[]): string {
  return JSON.stringify(events, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') {
      return `hex:${Buffer.from((v as { data: number[] }).data).toString('hex')}`;
    }
    return v;
  });
}

/** Concatenate batches so that differently split runs compare equal regardless of batch boundaries. */
export function mergeBatches(events: RdbEvent[]): RdbEvent[] {
  const out: RdbEvent[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (last && last.kind === e.kind) {
      if (e.kind === 'list-items' && last.kind === 'list-items') {
        out[out.length - 1] = { kind: 'list-items', items: [...last.items, ...e.items] };
        continue;
      }
      if (e.kind === 'set-members' && last.kind === 'set-members') {
        out[out.length - 1] = { kind: 'set-members', members: [...last.members, ...e.members] };
        continue;
      }
      if (e.kind === 'zset-entries' && last.kind === 'zset-entries') {
        out[out.length - 1] = { kind: 'zset-entries', entries: [...last.entries, ...e.entries] };
        continue;
      }
      if (e.kind === 'hash-entries' && last.kind === 'hash-entries') {
        out[out.length - 1] = { kind: 'hash-entries', entries: [...last.entries, ...e.entries] };
        continue;
      }
      if (e.kind === 'stream-entries' && last.kind === 'stream-entries') {
        out[out.length - 1] = { kind: 'stream-entries', entries: [...last.entries, ...e.entries] };
        continue;
      }
    }
    out.push(e);
  }
  return out;
}
