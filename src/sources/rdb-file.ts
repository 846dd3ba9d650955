/**
 * Sources of RDB events: an RDB file (or stdin, `-`) read in chunks and fed to @shake/rdb's streaming
 * parser, and a single DUMP payload. Pull-based: the next chunk is read only when the pipeline asks for
 * the next batch, so memory is bounded by the chunk size and the parser's largest element.
 */
import { createReadStream, fstatSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  parseDumpPayload,
  RdbError,
  RdbParser,
  type KeyHeader,
  type RdbEvent,
  type RdbParserOptions,
} from '@shake/rdb';
import type { EntryBatch, Source } from '../core/entry.js';
import { fileChunks } from './file-chunks.js';

/**
 * Bytes handed to the parser at a time. Small slices keep few events alive at once (a 256 KiB slice of
 * small keys is tens of thousands of objects that survive a young-generation GC and get copied), and bound
 * the events lost to a mid-slice error on unseekable input. The parser widens its view over consecutive
 * slices of one read instead of copying them.
 */
const SLICE = 16 * 1024;
/**
 * Read size. Every element Buffer the parser hands out is a view that keeps its whole read chunk alive until
 * the next GC; 64 KiB reads measured the same speed as 1 MiB ones with a third less peak RSS.
 */
const READ_CHUNK = 64 * 1024;
/** With `readSync`, the event loop gets a turn (signals, timers, progress) every this many reads. */
const TURN_EVERY = 16;

export interface RdbFileSourceOptions extends RdbParserOptions {
  /** Read size (default 64 KiB). */
  readChunk?: number;
  /**
   * Read a regular file with readSync between slices instead of a stream. Where parsing a chunk is quick (keys
   * only, `values: false`), a read of 64 KiB from the page cache costs less than the stream's thread-pool round
   * trip, during which the parser sat idle: a tenth of a 1M-key `decode --format keys`. Where values are decoded
   * the stream's read-ahead overlaps the parse instead, and reading synchronously measured no faster and 8-13 MB
   * higher in peak RSS (1M-key jsonl decode), so it stays off there.
   */
  readSync?: boolean;
}

export class RdbFileSource implements Source {
  /** Bytes read and handed to the parser so far. */
  bytesRead = 0;
  /** Size of the input when known (a regular file), else null. */
  readonly totalBytes: number | null;

  constructor(
    /** A file path, or `-` for stdin. */
    readonly path: string,
    private readonly opts: RdbFileSourceOptions = {},
  ) {
    this.totalBytes = inputSize(path);
  }

  private open(end?: number): Readable {
    const highWaterMark = this.opts.readChunk ?? READ_CHUNK;
    if (this.path === '-') return process.stdin;
    return createReadStream(this.path, end === undefined ? { highWaterMark } : { highWaterMark, end: end - 1 });
  }

  /** The input's chunks: read synchronously from a regular file (`readSync`, file-chunks.ts), else from a stream. */
  private async *chunks(): AsyncGenerator<Buffer> {
    if (!this.opts.readSync || this.totalBytes === null || this.path === '-') {
      const input = this.open();
      try {
        yield* input as AsyncIterable<Buffer>;
      } finally {
        if (input !== process.stdin) input.destroy();
      }
      return;
    }
    let n = 0;
    for await (const chunk of fileChunks(this.path, this.opts.readChunk ?? READ_CHUNK)) {
      yield chunk;
      if (++n % TURN_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<EntryBatch> {
    const { readChunk: _r, readSync: _s, ...parserOpts } = this.opts;
    const parser = new RdbParser(parserOpts);
    const input = this.chunks();
    let events = 0;
    try {
      for await (const chunk of input) {
        for (let off = 0; off < chunk.length; off += SLICE) {
          const piece = off === 0 && chunk.length <= SLICE ? chunk : chunk.subarray(off, off + SLICE);
          let batch: RdbEvent[];
          try {
            batch = parser.push(piece);
          } catch (err) {
            if (err instanceof RdbError) yield* this.recover(err, events);
            throw err;
          }
          this.bytesRead += piece.length;
          if (batch.length > 0) {
            events += batch.length;
            yield batch;
          }
        }
      }
      const tail = parser.end();
      if (tail.length > 0) yield tail;
    } finally {
      await input.return(undefined);
    }
  }

  /**
   * After a parse error inside a slice, the events the parser completed in that slice before the bad
   * byte were never returned. For a file, parse it again up to the error offset with a fresh parser and
   * yield the events after the first `seen`, so every key before the error is written out.
   */
  private async *recover(err: RdbError, seen: number): AsyncGenerator<EntryBatch> {
    if (this.path === '-' || err.offset <= 0) return;
    const { readChunk: _r, readSync: _s, ...parserOpts } = this.opts;
    const parser = new RdbParser({ ...parserOpts, verifyChecksum: false });
    let n = 0;
    const input = this.open(err.offset);
    try {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        let batch: RdbEvent[];
        try {
          batch = parser.push(chunk);
        } catch {
          return;
        }
        const skip = Math.max(0, Math.min(batch.length, seen - n));
        n += batch.length;
        if (skip < batch.length) yield skip === 0 ? batch : batch.slice(skip);
      }
    } finally {
      input.destroy();
    }
  }
}

function inputSize(path: string): number | null {
  try {
    const st = path === '-' ? fstatSync(0) : statSync(path);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

/** One DUMP payload (as DUMP returns it) as a source of one key, db -1 and an empty name. */
export function dumpPayloadSource(payload: Buffer, opts: RdbParserOptions = {}): Source & { rdbVersion: number } {
  const parsed = parseDumpPayload(payload, opts);
  return {
    rdbVersion: parsed.rdbVersion,
    async *[Symbol.asyncIterator]() {
      const header: RdbEvent = { kind: 'header', magic: 'REDIS', version: parsed.rdbVersion, offset: 0 };
      yield [header, ...parsed.events];
    },
  };
}

/**
 * The dbs an RDB file holds keys in, among the keys `keep` accepts (the run's key selection; keys already
 * expired are left out, as loading them would), read keys-only (`values: false`: framing walked, no value
 * decoded). The whole file is read once more, in bounded memory (one read chunk and the parser's state), so a
 * run can refuse what a target cannot take before writing anything. A bad file is left for the real read to report.
 */
export async function rdbKeyDbs(
  path: string,
  keep: ((h: KeyHeader) => boolean) | null,
  nowMs: number,
): Promise<Set<number>> {
  const dbs = new Set<number>();
  const parser = new RdbParser({ values: false, verifyChecksum: false });
  const take = (events: readonly RdbEvent[]): boolean => {
    for (const e of events) {
      if (e.kind === 'end') return true;
      if (e.kind !== 'key-start' || dbs.has(e.header.db)) continue;
      const h = e.header;
      if (h.expireAtMs !== null && h.expireAtMs <= nowMs) continue;
      if (!keep || keep(h)) dbs.add(h.db);
    }
    return false;
  };
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK })) {
      if (take(parser.push(chunk as Buffer))) return dbs;
    }
    take(parser.end());
  } catch (err) {
    if (!(err instanceof RdbError)) throw err;
  }
  return dbs;
}
