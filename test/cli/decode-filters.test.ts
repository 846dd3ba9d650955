/**
 * Filters of `shake decode` (--db, --key, --key-regex, --type, --no-expired): the keys written are
 * exactly the expected.jsonl records the filter selects (judged by our glob, itself checked against
 * KEYS in glob.test.ts), whole keys are dropped even when they span many batches, and the dropped keys
 * are counted in the summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from '../../src/pipelines/decode.js';
import { globMatch } from '../../src/transforms/glob.js';
import { loadExpected } from '../helpers/load-records.js';
import type { KeyRecord } from '../helpers/records.js';
import { compareRecords } from '../helpers/compare-records.js';
import { parseDecodedJsonl, toRecord } from './helpers/decoded-records.js';
import { runCli } from './helpers/run-cli.js';

const fx = loadExpected('redis-7.4');
const rdbFile = fx.rdbFile ?? '';
const keyOf = (r: KeyRecord) => Buffer.from(r.key_b64, 'base64');

async function decodeWith(args: string[], expected: KeyRecord[]): Promise<string> {
  // a small batch size makes big keys span many batches: the filter must drop them whole
  const res = await runCli(['decode', rdbFile, '--batch-size', '3', ...args]);
  assert.equal(res.code, 0, res.stderr);
  const lines = parseDecodedJsonl(res.stdout.toString('utf8')).filter((l) => l.key !== undefined);
  assert.deepEqual(compareRecords(lines.map(toRecord), expected), []);
  assert.ok(expected.length > 0 && expected.length < fx.records.length, 'the filter selects a proper subset');
  const dropped = fx.records.length - expected.length;
  assert.match(
    res.stderr,
    new RegExp(`${fx.records.length} keys read, ${expected.length} written, skipped: ${dropped} filtered`),
  );
  return res.stderr;
}

test('--db (repeatable)', async () => {
  await decodeWith(
    ['--db', '1', '--db', '5'],
    fx.records.filter((r) => r.db === 1 || r.db === 5),
  );
});

test('--type (repeatable)', async () => {
  await decodeWith(
    ['--type', 'hash', '--type', 'stream'],
    fx.records.filter((r) => r.type === 'hash' || r.type === 'stream'),
  );
});

test('--key globs (repeatable, Redis semantics)', async () => {
  const globs = ['hash:*', 'str:[a-i]*', 'l?st:*'];
  const sel = fx.records.filter((r) => globs.some((g) => globMatch(Buffer.from(g), keyOf(r))));
  await decodeWith(['--key', globs[0] ?? '', '--key', globs[1] ?? '', '--key', globs[2] ?? ''], sel);
});

test('--key-regex, combined with --db', async () => {
  const sel = fx.records.filter((r) => r.db === 0 && /^(zset|set):/.test(keyOf(r).toString('utf8')));
  await decodeWith(['--key-regex', '^(zset|set):', '--db', '0'], sel);
});

test('dropping expired keys: relative to now, counted as expired', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-filter-'));
  try {
    // the fixtures' TTLs fall between 2035 and 2099 (plus 2500 and 9999): pretend it is 2060
    const nowMs = Date.UTC(2060, 0, 1);
    const output = join(dir, 'out.jsonl');
    const run = decode({
      input: rdbFile,
      output,
      format: 'jsonl',
      strings: 'auto',
      batchSize: 5,
      respBatch: 10,
      verifyChecksum: true,
      dropExpired: true,
      nowMs,
    });
    await run.done;
    const kept = fx.records.filter((r) => r.expire_at_ms === null || r.expire_at_ms > nowMs);
    const expired = fx.records.length - kept.length;
    assert.ok(expired > 0 && kept.some((r) => r.expire_at_ms !== null));
    assert.equal(run.counters.skipped.get('expired'), expired);
    assert.equal(run.counters.keysWritten, kept.length);
    const lines = parseDecodedJsonl(readFileSync(output, 'utf8')).filter((l) => l.key !== undefined);
    assert.deepEqual(compareRecords(lines.map(toRecord), kept), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--no-expired on the CLI keeps every fixture key (all TTLs are in the future)', async () => {
  const res = await runCli(['decode', rdbFile, '--no-expired', '--format', 'keys']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, new RegExp(`${fx.records.length} keys read, ${fx.records.length} written;`));
});
