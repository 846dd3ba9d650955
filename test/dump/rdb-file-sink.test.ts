import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseRdb } from '@shake/rdb';
import type { Entry } from '../../src/core/entry.js';
import { RdbFileSink } from '../../src/sinks/rdb-file.js';
import { loadExpected } from '../helpers/load-records.js';
import { assertLoadsAs } from './helpers.js';

describe('RdbFileSink fed by the parser (the 7.0 fixture)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-sink-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const fx = loadExpected('redis-7.0');

  for (const captureRawLimit of [0, 1 << 20]) {
    test(captureRawLimit ? 'keys as raw bodies (key-end.raw)' : 'keys as value events (re-encoded)', async () => {
      const path = join(dir, `sink-${captureRawLimit}.rdb`);
      const sink = await RdbFileSink.open(path, { fsync: false });
      let batches = 0;
      for await (const events of parseRdb(createReadStream(fx.rdbFile!), { captureRawLimit })) {
        await sink.write(events as Entry[]);
        batches++;
      }
      await sink.close();
      assert.ok(batches > 1);
      assert.equal(sink.result?.keys, fx.records.length);
      assert.equal(sink.result?.rdbVersion, 10);
      await assertLoadsAs(path, fx.records);
    });
  }

  test('an aborted run leaves neither the file nor its temporary', async () => {
    const path = join(dir, 'aborted.rdb');
    const ac = new AbortController();
    const sink = await RdbFileSink.open(path, { signal: ac.signal });
    await sink.write([{ kind: 'header', magic: 'REDIS', version: 10, offset: 0 }]);
    ac.abort();
    await sink.close();
    assert.equal(sink.result, null);
    const { readdirSync } = await import('node:fs');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('aborted')),
      [],
    );
  });
});
