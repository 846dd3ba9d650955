/** Shared by the check tests: run the check pipeline between harness servers and collect what it reports. */
import type { Difference } from '../../src/check/problems.js';
import { runCheck, type CheckOptions, type CheckSummary } from '../../src/pipelines/check.js';
import type { ConnectionOptions } from '../../src/redis/index.js';
import type { RedisServer } from '../harness/redis-server.js';

/**
 * For a source read through replication: the master forks at once instead of waiting the default 5 s of
 * repl-diskless-sync-delay for more replicas.
 */
export const NO_SYNC_DELAY = { 'repl-diskless-sync-delay': '0' };

export function conn(s: RedisServer): ConnectionOptions {
  return { host: s.host, port: s.port };
}

export interface CheckRun {
  summary: CheckSummary;
  diffs: Difference[];
}

/** runCheck with no re-check rounds unless asked, collecting the reported differences. */
export async function check(
  source: RedisServer | { rdbFile: string },
  target: RedisServer,
  opts: Partial<CheckOptions> = {},
): Promise<CheckRun> {
  const diffs: Difference[] = [];
  const summary = await runCheck({
    rounds: 0,
    ...opts,
    source: 'rdbFile' in source ? source : conn(source),
    target: conn(target),
    onDifference: (d) => diffs.push(d),
  });
  return { summary, diffs };
}

/** The differences as [db, key (latin1), problem] triples, for exact assertions. */
export function triples(diffs: Difference[]): [number | null, string | null, string][] {
  return diffs.map((d) => [d.db, d.key === null ? null : d.key.toString('latin1'), d.problem]);
}
