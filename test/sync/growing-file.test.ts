/**
 * sources/growing-file.ts: a reader that follows a file while its writer (RdbFileOutput, as sync's snapshot
 * receiver) appends to it: every byte once and in order, whatever the reader's and the writer's pace; it ends only
 * when the writer says the file is complete (a rename meanwhile changes nothing), and fails with the writer's error.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RdbFileOutput } from '../../src/sinks/rdb-file-output.js';
import { GrowingFile } from '../../src/sources/growing-file.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An RdbFileOutput with a GrowingFile following it, as sync wires them. */
async function pair(): Promise<{ out: RdbFileOutput; file: GrowingFile; path: string }> {
  const path = join(mkdtempSync(join(tmpdir(), 'shake-growing-')), 'snapshot.rdb');
  const out = await RdbFileOutput.open(path, { fsync: false, highWaterMark: 64 * 1024 });
  const file = await GrowingFile.open(out.tempPath);
  out.onFlushed = (n) => file.grew(n);
  return { out, file, path };
}

async function readAll(it: AsyncIterable<Buffer>, delayEvery = 0): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) {
    parts.push(c);
    if (delayEvery > 0 && parts.length % delayEvery === 0) await sleep(1);
  }
  return Buffer.concat(parts);
}

describe('GrowingFile', () => {
  for (const [what, readerDelay, writerDelay] of [
    ['reader faster than the writer', 0, 2],
    ['reader slower than the writer', 1, 0],
  ] as const) {
    test(`${what}: every byte once, in order; ends only after end(), across the rename`, async () => {
      const { out, file, path } = await pair();
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const reader = readAll(file.chunks(50_000), readerDelay);
      let ended = false;
      void reader.then(() => assert.ok(ended, 'the reader ended before the writer said so'));
      for (let off = 0; off < data.length; off += 100_003) {
        if (!out.write(data.subarray(off, off + 100_003))) await out.drained();
        if (writerDelay > 0) await sleep(writerDelay);
      }
      await out.commit(); // renamed to `path` here: the reader keeps its descriptor
      assert.ok(existsSync(path));
      ended = true;
      file.end();
      assert.ok((await reader).equals(data));
      // A second reader from the start (restore reads an RDB again for keys too big to capture).
      assert.ok((await readAll(file.chunks())).equals(data));
      await file.close();
    });
  }

  test('head() waits for the first bytes; a failure reaches readers waiting and readers behind', async () => {
    const { out, file } = await pair();
    const head = file.head(9);
    await sleep(20);
    out.write(Buffer.from('REDIS0011'));
    out.write(Buffer.alloc(1000, 7));
    assert.equal((await head).toString('latin1'), 'REDIS0011');
    const waiting = readAll(file.chunks());
    await sleep(20);
    file.fail(new Error('the link closed'));
    await assert.rejects(waiting, /the link closed/);
    await assert.rejects(readAll(file.chunks()), /the link closed/, 'bytes left to read, still the failure');
    await out.abort();
    await file.close();
  });

  test('a file that ends shorter than asked: head() returns what there is', async () => {
    const { out, file } = await pair();
    out.write(Buffer.from('REDIS'));
    await out.commit();
    file.end();
    assert.equal((await file.head(16)).toString('latin1'), 'REDIS');
    await file.close();
  });
});
