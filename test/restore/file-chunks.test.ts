/**
 * The restore input reader (src/sources/file-chunks.ts): a regular file comes whole and in order, in chunks of
 * the given size (a fresh Buffer each, so a view kept from one chunk survives the next read); a FIFO comes
 * through a stream, whole as well.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileChunks } from '../../src/sources/file-chunks.js';

const bytes = (n: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
};

describe('restore file reader', () => {
  it('reads a regular file whole, in chunks of the size asked, each its own Buffer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shake-chunks-'));
    try {
      for (const size of [0, 1, 999, 1000, 1001, 4500]) {
        const data = bytes(size);
        const path = join(dir, `f${size}`);
        writeFileSync(path, data);
        const chunks: Buffer[] = [];
        for await (const c of fileChunks(path, 1000)) chunks.push(c);
        assert.deepEqual(Buffer.concat(chunks), data, `size ${size}`);
        assert.deepEqual(
          chunks.map((c) => c.length),
          Array.from({ length: Math.ceil(size / 1000) }, (_, i) => Math.min(1000, size - i * 1000)),
        );
        // views of earlier chunks are intact after later reads
        if (chunks.length > 1) assert.deepEqual(chunks[0], data.subarray(0, 1000));
        assert.equal(new Set(chunks.map((c) => c.buffer)).size, chunks.length);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a FIFO through a stream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shake-chunks-'));
    try {
      const path = join(dir, 'fifo');
      assert.equal(spawnSync('mkfifo', [path]).status, 0, 'mkfifo');
      const data = bytes(300_000);
      const w = createWriteStream(path);
      w.end(data);
      const chunks: Buffer[] = [];
      for await (const c of fileChunks(path, 64 * 1024)) chunks.push(c);
      assert.deepEqual(Buffer.concat(chunks), data);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unreadable path fails with its errno', async () => {
    await assert.rejects(
      async () => {
        for await (const _ of fileChunks('/nonexistent/shake-input.rdb', 1000)) void _;
      },
      { code: 'ENOENT' },
    );
  });
});
