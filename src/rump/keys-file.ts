/**
 * `--keys-file FILE`: the keys to copy, one per line (the line's bytes are the key; a trailing CR is
 * dropped; empty lines are skipped), for sources where SCAN itself is refused. Read as a stream, page by
 * page, so the file is never held whole; each node reads it and keeps the keys of its own slots.
 */
import { createReadStream } from 'node:fs';
import type { KeyPage } from '../sources/scan.js';

const LF = 0x0a;
const CR = 0x0d;

/** Key lines of the file, in pages of up to `pageSize` keys. */
export function keyLines(path: string, pageSize: number): AsyncGenerator<Buffer[]> {
  return splitKeyLines(createReadStream(path, { highWaterMark: 256 * 1024 }), pageSize);
}

/** Key lines of a byte stream (split anywhere), in pages of up to `pageSize` keys. */
export async function* splitKeyLines(chunks: AsyncIterable<Buffer>, pageSize: number): AsyncGenerator<Buffer[]> {
  let rest: Buffer | null = null;
  let page: Buffer[] = [];
  const take = (line: Buffer): void => {
    const end = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
    // Copy: the chunk it points into is released as soon as this page is done with.
    if (end > 0) page.push(Buffer.from(line.subarray(0, end)));
  };
  for await (const chunk of chunks) {
    const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let i = buf.indexOf(LF); i !== -1; i = buf.indexOf(LF, start)) {
      take(buf.subarray(start, i));
      start = i + 1;
      if (page.length >= pageSize) {
        yield page;
        page = [];
      }
    }
    rest = start < buf.length ? buf.subarray(start) : null;
  }
  if (rest) take(rest);
  if (page.length > 0) yield page;
}

/**
 * The pages one node reads: for each db, the file's keys that pass `keep` (slot ownership, name filters).
 */
export async function* keysFilePages(
  path: string,
  dbs: number[],
  pageSize: number,
  keep: (db: number, key: Buffer) => boolean,
): AsyncGenerator<KeyPage> {
  for (const db of dbs) {
    for await (const lines of keyLines(path, pageSize)) {
      const keys = lines.filter((k) => keep(db, k));
      if (keys.length > 0) yield { db, keys };
    }
  }
}
