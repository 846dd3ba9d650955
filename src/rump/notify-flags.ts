/**
 * notify-keyspace-events, as redis.conf spells it (notify.c keyspaceEventsStringToFlags): `rump --live`
 * needs key-event notifications (E) for every class that changes or removes a key: generic (g: DEL,
 * EXPIRE, RENAME, ...), strings ($), lists (l), sets (s), hashes (h), sorted sets (z), streams (t),
 * expired (x) and evicted (e). `A` stands for g$lshzxetd. Key misses (m) and new keys (n) are not needed:
 * a new key always comes with its write event.
 */

/** The classes rump --live needs besides E. */
export const REQUIRED_CLASSES = ['g', '$', 'l', 's', 'h', 'z', 'x', 'e', 't'] as const;

/** What to tell the user to set: the smallest value that has them all. */
export const RECOMMENDED_VALUE = 'EA';

const ALL = 'g$lshzxetd';

export interface NotifyCheck {
  ok: boolean;
  /** Classes missing from the value (E counts as a class here). */
  missing: string[];
}

/** Checks a notify-keyspace-events value (as CONFIG GET returns it, e.g. "AKE" or "xE"). */
export function checkNotifyValue(value: string): NotifyCheck {
  const have = new Set<string>();
  for (const c of value) {
    if (c === 'A') for (const a of ALL) have.add(a);
    else have.add(c);
  }
  const missing: string[] = [];
  if (!have.has('E')) missing.push('E');
  for (const c of REQUIRED_CLASSES) if (!have.has(c)) missing.push(c);
  return { ok: missing.length === 0, missing };
}

/** The message for a source whose notifications are off or incomplete. */
export function notifyAdvice(node: string, detail: string): string {
  return (
    `--live needs keyspace notifications on ${node} (${detail}): set notify-keyspace-events to ` +
    `"${RECOMMENDED_VALUE}" (or any value with E and A, such as "KEA") — with CONFIG SET ` +
    `notify-keyspace-events ${RECOMMENDED_VALUE} where CONFIG is allowed, or in the ElastiCache parameter ` +
    `group / your provider's settings where it is not; then start rump again`
  );
}
