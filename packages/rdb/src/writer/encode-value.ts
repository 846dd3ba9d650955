/**
 * One key's value body in memory, for DUMP payloads of values known to be small, and for tests.
 */
import type { KeyHeader } from '../types.js';
import { ChunkWriter } from './serialize.js';
import {
  ValueEncoder,
  type KeyEncodeOptions,
  type ValueEncodeResult,
  type ValueEncoderOptions,
  type ValueEvent,
} from './value-encoder.js';

/** Collects one key's body into memory: for DUMP payloads of small values and for tests. */
export function encodeValueEvents(
  header: KeyHeader,
  events: readonly ValueEvent[],
  opts: ValueEncoderOptions & KeyEncodeOptions & { length?: number },
): ValueEncodeResult & { body: Buffer[] } {
  const body: Buffer[] = [];
  const w = new ChunkWriter((c) => body.push(c), 64 * 1024, opts.compress ?? true);
  const enc = new ValueEncoder(opts);
  enc.start(header, { begin: () => w }, opts.length, opts);
  for (const ev of events) enc.add(ev);
  const result = enc.finish();
  w.flush();
  return { ...result, body };
}
