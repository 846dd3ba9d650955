/**
 * Round trip through the corpus: every fixtures/rdb/<label>.rdb is parsed (RdbParser) and re-written by
 * RdbWriter for RDB 10, checked with redis-check-rdb, loaded into redis-server 7.0 and read back, then
 * compared with <label>.expected.jsonl (what the original server held). What 7.0 cannot hold is counted,
 * not compared: hash field TTLs (7.4+) must equal the writer's droppedFieldTtls.
 * A downgrade run (redis-7.4 => RDB 7) also checks that streams are skipped and counted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RdbParser, RdbWriter } from '@shake/rdb';
import { startRedis } from '../../harness/redis-server.js';
import { readKeyspace } from '../../helpers/keyspace.js';
import { fixturesDir, loadExpected } from '../../helpers/load-records.js';
import type { KeyRecord } from '../../helpers/records.js';
import { assertRecordsMatch, loadedBy70 } from '../../helpers/compare-records.js';

const labels = readdirSync(join(fixturesDir, 'rdb'))
  .filter((f) => f.endsWith('.rdb'))
  .map((f) => f.replace(/\.rdb$/, ''))
  .sort();

/** Parses `file` in 64 KiB chunks and writes it again for `target`, returning the new file's bytes. */
function rewrite(file: string, target: number): { bytes: Buffer; writer: RdbWriter } {
  const out: Buffer[] = [];
  const writer = new RdbWriter({ rdbVersion: target, output: (c) => out.push(c) });
  const parser = new RdbParser({ batchSize: 100 });
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      for (const ev of parser.push(chunk.subarray(0, n))) writer.write(ev);
    }
  } finally {
    closeSync(fd);
  }
  for (const ev of parser.end()) writer.write(ev);
  return { bytes: Buffer.concat(out), writer };
}

function fieldTtlCount(records: KeyRecord[]): number {
  return records.reduce((n, r) => n + (r.hash_field_expire_at_ms?.length ?? 0), 0);
}

async function loadAndRead(file: string): Promise<{ records: KeyRecord[]; functions: unknown[] }> {
  const server = await startRedis({ rdbFile: file });
  const c = server.client();
  try {
    return { records: await readKeyspace(c), functions: (await c.call('FUNCTION', 'LIST', 'WITHCODE')) as unknown[] };
  } finally {
    c.disconnect();
    await server.stop();
  }
}

describe('writer: fixtures parsed and re-written load into 7.0 and equal expected.jsonl', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'shake-writer-fx-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the corpus', () => assert.ok(labels.length >= 11, labels.join(',')));

  for (const label of labels) {
    it(`${label} => RDB 10`, async () => {
      const fx = loadExpected(label);
      const { bytes, writer } = rewrite(fx.rdbFile!, 10);
      const file = join(dir, `${label}.rdb`);
      writeFileSync(file, bytes);
      const check = spawnSync('redis-check-rdb', [file], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stdout + check.stderr);

      const { records, functions } = await loadAndRead(file);
      assert.equal(writer.stats.keys, fx.records.length);
      assert.deepEqual(writer.stats.skipped, {});
      assert.equal(writer.stats.droppedFieldTtls, fieldTtlCount(fx.records), 'hash field TTLs counted');
      const v = fx.meta.rdb_version!;
      assertRecordsMatch(records, fx.records, {
        ...loadedBy70(v >= 10),
        ignoreStreamTimes: /^redis-5\./.test(label),
        approxMs: 1000,
      });
      const want = (fx.meta.functions as { library_code: string }[] | undefined) ?? [];
      assert.equal(functions.length, want.length);
      if (want.length > 0)
        assert.ok(JSON.stringify(functions).includes(JSON.stringify(want[0]!.library_code).slice(1, -1)));
    });
  }

  it('redis-7.4 => RDB 7: streams skipped and counted, functions skipped, the rest loads', async () => {
    const fx = loadExpected('redis-7.4');
    const { bytes, writer } = rewrite(fx.rdbFile!, 7);
    const file = join(dir, 'downgrade-7.rdb');
    writeFileSync(file, bytes);
    const check = spawnSync('redis-check-rdb', [file], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const streams = fx.records.filter((r) => r.type === 'stream').length;
    assert.ok(streams > 0);
    const skipped = Object.entries(writer.stats.skipped);
    assert.deepEqual(skipped.map(([k, n]) => [k.split(':')[0], n]).sort(), [
      ['function', 1],
      ['stream', streams],
    ]);
    const { records } = await loadAndRead(file);
    assertRecordsMatch(
      records,
      fx.records.filter((r) => r.type !== 'stream'),
      loadedBy70(false),
    );
  });
});
