/**
 * Big keys are streamed: a 300,000-field hash and a 300,000-element list (built on a live server) go
 * out batch by batch — no write carries a whole value — and a slow reader holds the pipeline back
 * (the stream's buffer stays bounded instead of filling with the whole output).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { decode } from '../../src/pipelines/decode.js';
import { TextOutput } from '../../src/sinks/text/output.js';
import { startRedis } from '../harness/redis-server.js';
import { parseDecodedJsonl } from './helpers/decoded-records.js';

test('a 300k-field hash and a 300k-element list are written in bounded chunks, at the reader pace', async () => {
  const server = await startRedis();
  const c = server.client();
  let rdb: string;
  try {
    const p = c.pipeline();
    for (let i = 0; i < 300_000; i += 1000) {
      const h: string[] = [];
      const l: string[] = [];
      for (let k = i; k < i + 1000; k++) {
        h.push(`field:${k}`, `value:${k}:${'x'.repeat(k % 17)}`);
        l.push(`element:${k}`);
      }
      p.hset('big:hash', ...h);
      p.rpush('big:list', ...l);
    }
    await p.exec();
    await c.save();
    rdb = join(server.dir, 'dump.rdb');

    const chunks: number[] = [];
    let maxBuffered = 0;
    const parts: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.length);
        parts.push(chunk);
        setImmediate(cb);
      },
    });
    const out = new TextOutput(slow, true);
    const orig = slow.write.bind(slow);
    slow.write = ((chunk: Buffer, ...rest: never[]) => {
      const ok = orig(chunk, ...rest);
      maxBuffered = Math.max(maxBuffered, slow.writableLength);
      return ok;
    }) as typeof slow.write;
    const run = decode({
      input: rdb,
      out,
      format: 'jsonl',
      strings: 'auto',
      batchSize: 1024,
      respBatch: 128,
      verifyChecksum: true,
    });
    await run.done;

    const total = chunks.reduce((a, b) => a + b, 0);
    const lines = parseDecodedJsonl(Buffer.concat(parts).toString('utf8'));
    const hash = lines.find((l) => l.key === 'big:hash');
    const list = lines.find((l) => l.key === 'big:list');
    assert.equal((hash?.value as unknown[]).length, 300_000);
    assert.equal((list?.value as unknown[]).length, 300_000);
    assert.ok(total > 10 * 1024 * 1024, `${total} bytes out`);
    // no single write holds a whole value; the stream never buffers much beyond one chunk
    assert.ok(Math.max(...chunks) < 1024 * 1024, `largest write ${Math.max(...chunks)}`);
    assert.ok(chunks.length > 20, `${chunks.length} writes`);
    assert.ok(maxBuffered < 2 * 1024 * 1024, `stream buffered up to ${maxBuffered} bytes`);
  } finally {
    c.disconnect();
    await server.stop();
  }
});
