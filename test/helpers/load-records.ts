/**
 * Load a fixture's expected records and meta (shared/fixtures/README.md). `label` is either an RDB label
 * (`redis-7.0` => rdb/redis-7.0.expected.jsonl + .meta.json + .rdb) or an AOF fixture folder
 * (`aof/redis-7.0-multipart` => expected.jsonl + meta.json inside it).
 * The corpus lives beside the checkout: `<repo>/../shared/fixtures` (override: SHAKE_FIXTURES).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aliveAt, type KeyRecord } from './records.js';

/** Repository root, from dist/test/helpers/load-records.js (or test/helpers when run from source). */
export const repoRoot = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  ...(import.meta.url.includes('/dist/') ? ['..'] : []),
);

export const fixturesDir = process.env.SHAKE_FIXTURES ?? join(repoRoot, '..', 'shared', 'fixtures');

export interface FixtureMeta {
  label?: string;
  version?: string;
  redis_version?: string;
  rdb_version?: number;
  keys?: Record<string, number>;
  expires?: Record<string, number>;
  types?: Record<string, number>;
  encodings?: Record<string, number>;
  expire_approx?: boolean;
  [field: string]: unknown;
}

export interface ExpectedFixture {
  label: string;
  records: KeyRecord[];
  /** How many records the fixture has, before `aliveAt` left expired ones out (what a reader reads). */
  total: number;
  meta: FixtureMeta;
  /** The RDB file (RDB labels only). */
  rdbFile?: string;
  /** The fixture folder (AOF labels only). */
  dir?: string;
}

export function parseJsonl(text: string): KeyRecord[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as KeyRecord);
}

export interface LoadExpectedOptions {
  /**
   * Only the records a server holds at this time (ms): keys whose expiry has passed are left out (aliveAt).
   * For every test whose data passes through shake's Redis sink, which skips keys expired by the clock of
   * the Node side: with `Date.now()` the test holds on any date (and under SHAKE_TEST_CLOCK).
   */
  aliveAt?: number;
}

export function loadExpected(label: string, opts: LoadExpectedOptions = {}): ExpectedFixture {
  const fx = readExpected(label);
  const total = fx.records.length;
  return { ...fx, total, ...(opts.aliveAt === undefined ? {} : { records: aliveAt(fx.records, opts.aliveAt) }) };
}

function readExpected(label: string): Omit<ExpectedFixture, 'total'> {
  if (label.includes('/')) {
    const dir = join(fixturesDir, label);
    return {
      label,
      dir,
      records: parseJsonl(readFileSync(join(dir, 'expected.jsonl'), 'utf8')),
      meta: JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as FixtureMeta,
    };
  }
  const base = join(fixturesDir, 'rdb', label);
  const rdbFile = `${base}.rdb`;
  return {
    label,
    records: parseJsonl(readFileSync(`${base}.expected.jsonl`, 'utf8')),
    meta: JSON.parse(readFileSync(`${base}.meta.json`, 'utf8')) as FixtureMeta,
    ...(existsSync(rdbFile) ? { rdbFile } : {}),
  };
}
