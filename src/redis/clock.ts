/**
 * A server's clock against ours. TTLs cross the wire both ways: PTTL is relative to the source's clock, and
 * RESTORE without ABSTTL (before 5.0) takes a TTL relative to the target's; converting either with this
 * machine's clock would move every expiry by the skew between the two (or by however far a test moves the
 * clock of the Node side).
 */

/** Server clock minus ours (ms), from TIME, taken mid-way through the round trip; 0 when TIME is refused. */
export async function clockOffsetMs(call: (argv: string[]) => Promise<unknown>): Promise<number> {
  const sent = Date.now();
  const reply = await call(['TIME']).catch(() => null);
  const back = Date.now();
  if (!Array.isArray(reply) || reply.length !== 2) return 0;
  const ms = Number(String(reply[0])) * 1000 + Math.floor(Number(String(reply[1])) / 1000);
  return Number.isFinite(ms) ? Math.round(ms - (sent + back) / 2) : 0;
}
