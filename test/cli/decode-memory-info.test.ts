/**
 * `--format memory` / `--top` and `--info`. The memory report: one row per key with the element
 * counts, largest element and expiry the fixture's expected.jsonl implies, and sizes close to what a
 * live redis-server loaded with the same file reports with MEMORY USAGE. --info: counts per db, TTLs,
 * types and functions equal the fixture's meta.json, and the checksum is verified.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { loadExpected } from '../helpers/load-records.js';
import { recordId, type KeyRecord, type StreamRecord } from '../helpers/records.js';
import { csvKeyBytes, parseCsvLine } from './helpers/csv.js';
import { runCli } from './helpers/run-cli.js';
import type { MemoryRow } from '../../src/sinks/text/memory.js';

const fx = loadExpected('redis-7.0');
const rdbFile = fx.rdbFile ?? '';
const HEADER = 'database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry';

/** A CSV row as read back: the sink's row, with the expiry as the text the report prints. */
type Row = Omit<MemoryRow, 'expireAtMs'> & { expiry: string };

function rows(csv: string): Row[] {
  const lines = csv.split('\n').filter(Boolean);
  assert.equal(lines[0], HEADER);
  return lines.slice(1).map((l) => {
    const f = parseCsvLine(l);
    assert.equal(f.length, 8, l);
    return {
      db: Number(f[0]),
      type: f[1] ?? '',
      key: csvKeyBytes(f[2] ?? ''),
      size: Number(f[3]),
      encoding: f[4] ?? '',
      elements: Number(f[5]),
      largest: Number(f[6]),
      expiry: f[7] ?? '',
    };
  });
}

/** Element count and largest element length implied by an expected record. */
function shape(r: KeyRecord): { elements: number; largest: number } {
  const len = (b64: string) => Buffer.from(b64, 'base64').length;
  const v = r.value;
  switch (r.type) {
    case 'string': {
      const n = len((v as { b64: string }).b64);
      return { elements: n, largest: n };
    }
    case 'list':
    case 'set':
      return { elements: (v as string[]).length, largest: Math.max(0, ...(v as string[]).map(len)) };
    case 'zset':
      return {
        elements: (v as string[][]).length,
        largest: Math.max(0, ...(v as string[][]).map((p) => len(p[0] ?? ''))),
      };
    case 'hash':
      return { elements: (v as string[][]).length, largest: Math.max(0, ...(v as string[][]).flat().map(len)) };
    default: {
      const s = v as StreamRecord;
      return { elements: s.entries.length, largest: Math.max(0, ...s.entries.flatMap((e) => e[1].flat().map(len))) };
    }
  }
}

let server: RedisServer;
let client: Redis;
let report: Row[];

before(async () => {
  const res = await runCli(['decode', rdbFile, '--format', 'memory', '-q']);
  assert.equal(res.code, 0, res.stderr);
  report = rows(res.stdout.toString('utf8'));
  server = await startRedis({ rdbFile });
  client = server.client();
});
after(async () => {
  client?.disconnect();
  await server?.stop();
});

test('memory report: one row per key with the expected counts, largest element and expiry', () => {
  const byId = new Map(fx.records.map((r) => [recordId(r), r]));
  assert.equal(report.length, fx.records.length);
  for (const row of report) {
    const rec = byId.get(`${row.db}:${row.key.toString('base64')}`);
    assert.ok(rec, `unknown key ${row.key.toString()}`);
    assert.equal(row.type, rec.type === 'zset' ? 'sortedset' : rec.type);
    assert.ok(Number.isInteger(row.size) && row.size > 0);
    const s = shape(rec);
    assert.equal(row.elements, s.elements, `${row.key.toString()} elements`);
    assert.equal(row.largest, s.largest, `${row.key.toString()} largest`);
    assert.equal(row.expiry, rec.expire_at_ms === null ? '' : new Date(rec.expire_at_ms).toISOString());
  }
});

test('memory report sizes are close to MEMORY USAGE on a server loaded with the same file', async () => {
  const ratios: number[] = [];
  for (const row of report) {
    await client.select(row.db);
    const real = Number(await client.call('MEMORY', 'USAGE', row.key, 'SAMPLES', '0'));
    const ratio = row.size / real;
    ratios.push(ratio);
    assert.ok(ratio > 0.4 && ratio < 2.5, `${row.key.toString()}: estimated ${row.size}, MEMORY USAGE ${real}`);
    if (real > 10_000)
      assert.ok(ratio > 0.75 && ratio < 1.33, `${row.key.toString()}: estimated ${row.size}, MEMORY USAGE ${real}`);
  }
  ratios.sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)] ?? 0;
  assert.ok(median > 0.9 && median < 1.1, `median ratio ${median}`);
});

test('--top N: the N biggest rows of the full report, biggest first', async () => {
  const res = await runCli(['decode', rdbFile, '--top', '7', '-q']);
  assert.equal(res.code, 0, res.stderr);
  const top = rows(res.stdout.toString('utf8'));
  const want = [...report].sort((a, b) => b.size - a.size).slice(0, 7);
  assert.deepEqual(
    top.map((r) => r.size),
    want.map((r) => r.size),
  );
  assert.ok(top.every((r, i) => i === 0 || (top[i - 1]?.size ?? 0) >= r.size));
});

test('--info --format json: counts equal meta.json', async () => {
  const res = await runCli(['decode', rdbFile, '--info', '--format', 'json', '-q']);
  assert.equal(res.code, 0, res.stderr);
  const info = JSON.parse(res.stdout.toString('utf8')) as {
    rdb_version: number;
    keys: number;
    expires: number;
    expired: number;
    dbs: Record<string, { keys: number; expires: number }>;
    types: Record<string, number>;
    functions: string[];
    checksum: { status: string };
    aux: Record<string, string>;
  };
  const meta = fx.meta;
  assert.equal(info.rdb_version, meta.rdb_version);
  for (const [db, n] of Object.entries(meta.keys ?? {})) assert.equal(info.dbs[db]?.keys, n, `db ${db} keys`);
  for (const [db, n] of Object.entries(meta.expires ?? {})) assert.equal(info.dbs[db]?.expires, n, `db ${db} expires`);
  assert.equal(
    info.keys,
    Object.values(meta.keys ?? {}).reduce((a, b) => a + b, 0),
  );
  assert.equal(info.expired, 0);
  assert.deepEqual(info.types, meta.types);
  assert.deepEqual(
    info.functions,
    ((meta.functions as { library_name: string }[] | undefined) ?? []).map((f) => f.library_name),
  );
  assert.equal(info.checksum.status, 'ok');
  assert.equal(info.aux['redis-ver'], meta.redis_version);
});

test('--info (text) names the format, the counts and the checksum', async () => {
  const res = await runCli(['decode', rdbFile, '--info', '-q']);
  assert.equal(res.code, 0, res.stderr);
  const text = res.stdout.toString('utf8');
  assert.match(text, /^format: REDIS version 10, 202607 bytes$/m);
  assert.match(text, /^keys: 172 \(with TTL 28, already expired 0\)$/m);
  assert.match(text, /^ {2}db 15: 3 keys, 1 with TTL, 0 expired/m);
  assert.match(text, /^functions: 1 \(corpuslib_s1\)$/m);
  assert.match(text, /^checksum: ok/m);
});
