/** Test helpers: run a RespDecoder over an input whole, byte by byte, and split at every boundary. */
import assert from 'node:assert/strict';
import { RespDecoder, RespServerError, VerbatimString, type RespDecoderOptions, type RespValue } from '@shake/resp';

/** A JSON-comparable picture of a decoded value (so deepEqual compares content, not classes). */
export type Plain = string | number | bigint | boolean | null | { [k: string]: Plain } | Plain[];

export function plain(v: RespValue): Plain {
  if (Buffer.isBuffer(v)) return { bulk: v.toString('latin1') };
  if (v instanceof RespServerError) return { error: v.message, code: v.code };
  if (v instanceof VerbatimString) return { verbatim: v.format, text: v.value.toString('latin1') };
  if (v instanceof Map) return { map: [...v].map(([k, val]) => [plain(k), plain(val)]) };
  if (Array.isArray(v)) return v.map((x) => plain(x as RespValue));
  if (typeof v === 'number' && Number.isNaN(v)) return { nan: true };
  return v;
}

export type Event = [string, ...Plain[]];

/** Decoder whose every callback appends to `events`. `extra` may override callbacks/options. */
export function recordingDecoder(
  events: Event[],
  extra: Partial<RespDecoderOptions> = {},
): { decoder: RespDecoder; events: Event[] } {
  const decoder = new RespDecoder({
    onReply: (v) => events.push(['reply', plain(v)]),
    onPush: (v) => events.push(['push', plain(v)]),
    onAttribute: (a) => events.push(['attr', plain(a as RespValue)]),
    onBulkStart: (n) => events.push(['bulk-start', n]),
    onBulkChunk: (b) => events.push(['bulk-chunk', b.toString('latin1')]),
    onBulkEnd: () => events.push(['bulk-end']),
    ...extra,
  });
  return { decoder, events };
}

/** Merge consecutive chunk events so differently split inputs compare equal. */
export function mergeChunks(events: Event[]): Event[] {
  const out: Event[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (last && last[0] === e[0] && (e[0] === 'bulk-chunk' || e[0] === 'snap-chunk')) {
      out[out.length - 1] = [e[0], String(last[1]) + String(e[1])];
    } else out.push(e);
  }
  return out;
}

export function splits(input: Buffer, everyBoundary = true): Buffer[][] {
  const out: Buffer[][] = [[input]];
  const bytes: Buffer[] = [];
  for (let i = 0; i < input.length; i++) bytes.push(input.subarray(i, i + 1));
  out.push(bytes);
  if (everyBoundary) {
    for (let i = 1; i < input.length; i++) out.push([input.subarray(0, i), input.subarray(i)]);
  }
  // a few three-way splits with fresh copies (so views into reused memory would show up)
  for (let i = 1; i + 2 < input.length; i += Math.max(1, Math.floor(input.length / 7))) {
    const j = i + Math.floor((input.length - i) / 2);
    out.push([Buffer.from(input.subarray(0, i)), Buffer.from(input.subarray(i, j)), Buffer.from(input.subarray(j))]);
  }
  return out;
}

/**
 * Feeds `input` under every split; asserts each yields `expected` events (chunk events merged).
 * `make` builds a fresh decoder recording into the array it is given.
 */
export function assertAllSplits(
  input: Buffer,
  expected: Event[],
  make: (events: Event[]) => RespDecoder = (ev) => recordingDecoder(ev).decoder,
): void {
  for (const parts of splits(input)) {
    const events: Event[] = [];
    const decoder = make(events);
    for (const p of parts) decoder.write(p);
    assert.deepEqual(mergeChunks(events), expected, `split into ${parts.map((p) => p.length).join('+')}`);
    assert.equal(decoder.idle, true, 'decoder idle at the end');
    assert.equal(decoder.offset, input.length, 'offset at the end');
  }
}
