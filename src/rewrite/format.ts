/** Text forms of numbers and ids as Redis commands take them. */
import type { StreamId } from '@shake/rdb';

/**
 * A zset score as ZADD parses it (strtod): the shortest round-trip decimal form, with Redis's spellings of
 * inf, -inf, -0 and nan. One implementation for restore and `decode --format resp`/jsonl: see score.ts.
 */
export { formatScore } from './score.js';

export function formatStreamId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

export function streamIdIsZero(id: StreamId): boolean {
  return id.ms === 0n && id.seq === 0n;
}
