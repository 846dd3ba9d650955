/** Async wrapper: parse a stream of chunks, one event array per chunk. */
import type { RdbEvent, RdbParserOptions } from '../types.js';
import { RdbParser } from './rdb-parser.js';

/**
 * Parse an RDB from an async iterable of chunks (a file stream, a socket). Yields the events each chunk
 * completed (possibly an empty array) and throws RdbError on bad or truncated input.
 */
export async function* parseRdb(chunks: AsyncIterable<Buffer>, opts?: RdbParserOptions): AsyncGenerator<RdbEvent[]> {
  const parser = new RdbParser(opts);
  for await (const chunk of chunks) {
    yield parser.push(chunk);
  }
  const last = parser.end();
  if (last.length > 0) yield last;
}
