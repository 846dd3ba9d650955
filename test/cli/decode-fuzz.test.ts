/**
 * The decode pipeline in-process (src/pipelines/decode.ts) on damaged fixtures: random byte
 * flips and truncations in every output format. Only RdbError may come out (or success), nothing hangs,
 * and every complete jsonl line written before an error is valid JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RdbError } from '@shake/rdb';
import { DECODE_FORMATS } from '../../src/config/schema.js';
import { decode } from '../../src/pipelines/decode.js';
import { loadExpected } from '../helpers/load-records.js';

test('decode pipeline on 60 damaged copies: only RdbError, bounded time, valid complete lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-decode-fuzz-'));
  try {
    const rdb = readFileSync(loadExpected('redis-6.2').rdbFile ?? '');
    let seed = 99;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 60; i++) {
      let bad: Buffer;
      if (i % 3 === 0) {
        bad = rdb.subarray(0, Math.floor(rnd() * rdb.length));
      } else {
        bad = Buffer.from(rdb);
        for (let k = 0; k < 1 + (i % 4); k++) {
          const at = Math.floor(rnd() * bad.length);
          bad[at] = (bad[at] as number) ^ (1 + Math.floor(rnd() * 255));
        }
      }
      const input = join(dir, `in-${i}.rdb`);
      const output = join(dir, `out-${i}`);
      writeFileSync(input, bad);
      const format = DECODE_FORMATS[i % DECODE_FORMATS.length] ?? 'jsonl';
      const started = Date.now();
      const run = decode({
        input,
        output,
        format,
        strings: 'auto',
        batchSize: 64,
        respBatch: 16,
        verifyChecksum: i % 2 === 0,
      });
      try {
        await run.done;
      } catch (err) {
        assert.ok(err instanceof RdbError, `copy ${i}: ${String(err)}`);
        assert.ok(err.offset >= 0 && err.offset <= bad.length, `copy ${i}: offset ${err.offset}`);
      }
      assert.ok(Date.now() - started < 10_000, `copy ${i} took too long`);
      if (format === 'jsonl') {
        const lines = readFileSync(output, 'utf8').split('\n').slice(0, -1);
        for (const l of lines) JSON.parse(l);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
