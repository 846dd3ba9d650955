/**
 * The lines printed after a restore, beyond the one-line summary: how keys were written, what the target
 * could not keep (loudly: dropped hash field TTLs, stream details), failures with their keys, the stop reason.
 * Plain strings (no terminal codes), so the command and tests share them.
 */
import { printableKey } from '../core/printable-key.js';
import type { RestoreRun } from './restore.js';

export function restoreReport(run: RestoreRun): string[] {
  const s = run.stats;
  const c = run.counters;
  const lines: string[] = [];
  const rl = run.replicationLoad;
  if (rl) {
    const dbs = [...rl.keysPerDb].map(([db, n]) => `db ${db}: ${n}`).join(', ');
    lines.push(
      `loaded by the target itself as a replica of shake (${rl.diskless ? 'from the socket' : 'through its disk'}, ` +
        `link from ${rl.peer} to ${rl.listen}), then REPLICAOF NO ONE; keys per db as in the file (${dbs || 'none'})` +
        (rl.expired > 0 ? `; ${rl.expired} expired key(s) left for the target to expire` : '') +
        (rl.functions > 0 ? `; ${rl.functions} function librar(y/ies)` : ''),
    );
    return lines;
  }
  lines.push(
    `sent as RESTORE ${s.restoreRaw} (raw body) + ${s.restoreEncoded} (re-encoded), by MSET ${s.stringBatched}, ` +
      `as commands ${s.rewritten}` +
      (c.commandsRead > 0 ? `; commands replayed ${c.commandsWritten} of ${c.commandsRead}` : '') +
      `; failed ${c.failed}`,
  );
  if (s.droppedFieldTtls > 0) {
    const named = s.droppedFieldTtlKeys.map((k) => `db ${k.db} ${printableKey(k.key)}`).join(', ');
    const more = s.keysWithDroppedFieldTtls > s.droppedFieldTtlKeys.length ? ', ...' : '';
    lines.push(
      `WARNING: ${s.droppedFieldTtls} hash field TTL(s) in ${s.keysWithDroppedFieldTtls} written key(s) were DROPPED ` +
        `(${named}${more}): the target has no per-field expiry (HPEXPIREAT needs Redis 7.4+); those fields are ` +
        'kept without a TTL',
    );
  }
  if (s.expiredFields > 0) lines.push(`${s.expiredFields} hash field(s) had already expired and were not written`);
  const le = run.loadingExpiry;
  if (le && le.deferredKeys + le.deferredFields > 0) {
    lines.push(
      `${le.deferredKeys} key and ${le.deferredFields} field expir(y/ies) of the input had passed: replayed as redis-server ` +
        `loading it does (kept until the end), then ${le.expiredKeys} key(s) and ${le.expiredFields} field(s) whose ` +
        'final expiry had passed were deleted (counted as expired)',
    );
  }
  if (s.lostStreamDetails > 0) {
    lines.push(`${s.lostStreamDetails} stream detail(s) could not be expressed as commands (see docs/restore.md)`);
  }
  if (s.functionsLoaded + s.functionsSkipped > 0) {
    lines.push(`function libraries: ${s.functionsLoaded} loaded, ${s.functionsSkipped} skipped (already there)`);
  }
  if (s.functionsUnsupported > 0) {
    lines.push(
      `WARNING: ${s.functionsUnsupported} function librar(y/ies) NOT copied (--functions skip): the target cannot ` +
        'hold functions (needs Redis 7.0+, no proxy)',
    );
  }
  if (s.splitTransactions > 0) {
    lines.push(
      `${s.splitTransactions} MULTI/EXEC block(s) could not stay atomic on this target and were sent command by command`,
    );
  }
  if (s.redirects > 0) lines.push(`${s.redirects} cluster redirection(s) followed`);
  if (s.retried > 0) {
    lines.push(`${s.retried} command(s) sent again after a transient reply (LOADING, READONLY, TRYAGAIN, ...)`);
  }
  if (c.failures.length > 0) {
    lines.push(`first failures${c.failed > c.failures.length ? ` (${c.failures.length} of ${c.failed})` : ''}:`);
    for (const f of c.failures) {
      lines.push(`  ${f.db === null ? '' : `db ${f.db} `}${printableKey(f.key)}: ${f.message}`);
    }
  }
  if (run.stopped) lines.push(run.stopped);
  return lines;
}
