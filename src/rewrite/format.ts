/** Text forms of numbers and ids as Redis commands take them. */
import type { StreamId } from '@shake/rdb';

/**
 * A zset score as ZADD parses it (strtod): the shortest round-trip decimal form, so the server ends up with
 * exactly the same double. Infinities as Redis spells them; -0 keeps its sign.
 */
export function formatScore(score: number): string {
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  if (Object.is(score, -0)) return '-0';
  return String(score);
}

export function formatStreamId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

export function streamIdIsZero(id: StreamId): boolean {
  return id.ms === 0n && id.seq === 0n;
}
