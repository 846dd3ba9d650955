/**
 * Commands only a master link may send, rewritten into what a normal client may send (the target sees shake
 * as a client, not as its master):
 *
 * - XADD / XTRIM with `LIMIT <n>` and an exact trim (`MAXLEN = N` / `MINID = id`, or no operator): 6.2+ masters
 *   propagate an approximate trim (`~`) as the exact threshold the master ended at, keeping the LIMIT
 *   (t_stream.c: streamRewriteApproxSpecifier + streamRewriteTrimArgument). A client connection rejects
 *   that ("LIMIT cannot be used without the special ~ option"; only a master client may send it). Trimming
 *   exactly to the threshold the master reached gives the same stream, so the LIMIT is dropped.
 *
 * Everything else the replication code of 2.8 .. 8.x and Valkey 8 propagates (SET .. PXAT / KEEPTTL, PEXPIREAT,
 * XCLAIM .. LASTID / FORCE / JUSTID, XSETID .. ENTRIESADDED, RESTORE .. ABSTTL, SREM for SPOP, LMOVE for BLMOVE,
 * EVAL bodies, FUNCTION LOAD/RESTORE, MULTI/EXEC around script effects) is a client command as it is.
 */

const TRIM_STRATEGIES = new Set(['maxlen', 'minid']);

function lower(b: Buffer | undefined): string {
  return b ? b.toString('latin1').toLowerCase() : '';
}

/** The argv to send to the target (the same array when nothing changes). */
export function clientForm(argv: Buffer[], name: string): Buffer[] {
  if (name === 'xadd' || name === 'xtrim') return dropExactTrimLimit(argv);
  return argv;
}

function dropExactTrimLimit(argv: Buffer[]): Buffer[] {
  // Options come before the id (XADD) or are all of XTRIM's tail: find MAXLEN/MINID, its operator, LIMIT.
  let limitAt = -1;
  let approx = false;
  let seenTrim = false;
  for (let i = 2; i < argv.length; i++) {
    const a = lower(argv[i]);
    if (TRIM_STRATEGIES.has(a)) {
      seenTrim = true;
      const op = argv[i + 1]?.toString('latin1');
      if (op === '~') approx = true;
      i += op === '~' || op === '=' ? 2 : 1;
      continue;
    }
    if (a === 'limit' && seenTrim) {
      limitAt = i;
      break;
    }
    if (a === 'nomkstream') continue;
    // XADD: the first non-option argument is the entry id; no option follows it.
    break;
  }
  if (limitAt < 0 || approx) return argv;
  return [...argv.slice(0, limitAt), ...argv.slice(limitAt + 2)];
}
