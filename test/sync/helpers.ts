/**
 * Shared pieces of the sync tests: run the pipeline in-process, wait until the target holds the source's offset,
 * compare the two sides (value by value, or by the servers' own DEBUG DIGEST). The servers come from
 * test/harness (serverPair for a source and a target).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { sync, SyncProgress, type SyncOptions, type SyncResult } from '../../src/pipelines/sync.js';
import { openTarget } from '../../src/sinks/redis/open-target.js';
import type { RedisServer } from '../harness/redis-server.js';
import type { ServerPair } from '../harness/server-pair.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import type { KeyRecord } from '../helpers/records.js';

export type SyncLink = SyncResult['links'][number];

export function conn(s: { host: string; port: number }): { host: string; port: number } {
  return { host: s.host, port: s.port };
}

export function stateDir(): string {
  return mkdtempSync(join(tmpdir(), 'shake-sync-'));
}

export interface Running {
  progress: SyncProgress;
  done: Promise<SyncResult>;
  stop(): Promise<SyncResult>;
}

/** Starts sync() in-process; stop() aborts it (as SIGINT does) and returns its result. */
export function startSync(
  source: { host: string; port: number },
  target: { host: string; port: number },
  extra: Partial<SyncOptions> = {},
): Running {
  const ac = new AbortController();
  const progress = extra.progress ?? new SyncProgress();
  const done = sync({
    progress,
    source: conn(source),
    openTarget: () => openTarget({ connection: conn(target) }),
    stateDir: extra.stateDir ?? stateDir(),
    signal: ac.signal,
    ...extra,
  });
  done.catch(() => {});
  return {
    progress,
    done,
    stop: async () => {
      ac.abort();
      return done;
    },
  };
}

export async function masterOffset(c: Redis): Promise<number> {
  const info = await c.info('replication');
  return Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? -1);
}

/** Waits until the source's master_repl_offset is what the target's checkpoint(s) hold. */
export async function waitApplied(
  source: Redis,
  checkpoint: () => Promise<number>,
  timeoutMs = 30_000,
  run?: Running,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let failed: unknown = null;
  run?.done.catch((err: unknown) => (failed = err));
  for (;;) {
    if (failed) throw failed as Error;
    const want = await masterOffset(source);
    const got = await checkpoint();
    if (got >= want) return;
    if (Date.now() > deadline) throw new Error(`target at offset ${got}, source at ${want}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The offset in a standalone target's checkpoint key (a cluster client reads the base checkpoint). */
export function standaloneCheckpoint(
  target: { get(key: string): Promise<string | null> },
  name: string,
): () => Promise<number> {
  return async () => {
    const v = await target.get(`__shake:sync:${name}`);
    const m = v ? /^\S+ (\d+) \d+$/.exec(v) : null; // not "loading <replid>"
    return m ? Number(m[1]) : -1;
  };
}

/** The checkpoint a pair's target holds for the pair's source. */
export function pairCheckpoint(p: ServerPair): () => Promise<number> {
  return standaloneCheckpoint(p.dst, nameOf(p.source));
}

/** A run between a pair's source and target (startSync), with the checkpoint the target holds for the source. */
export interface PairRun extends Running {
  checkpoint: () => Promise<number>;
  /** Waits until the target holds the source's offset, then stops the run: its result. */
  finish(timeoutMs?: number): Promise<SyncResult>;
}

export function syncPair(p: ServerPair, extra: Partial<SyncOptions> = {}): PairRun {
  const run = startSync(p.source, p.target, extra);
  const checkpoint = pairCheckpoint(p);
  return { ...run, checkpoint, finish: (timeoutMs = 30_000) => stopWhenApplied(run, p.src, checkpoint, timeoutMs) };
}

/** Waits until the checkpoint is at `atLeast` (0: the snapshot is loaded); `context` explains a timeout. */
export async function waitCheckpoint(
  checkpoint: () => Promise<number>,
  atLeast = 0,
  context: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await checkpoint()) < atLeast) {
    assert.ok(Date.now() < deadline, `no checkpoint at ${atLeast}: ${context()}`);
    await sleep(20);
  }
}

/** Waits until the target holds the source's offset, then stops the run: its result. */
export async function stopWhenApplied(
  run: Running,
  source: Redis,
  checkpoint: () => Promise<number>,
  timeoutMs = 30_000,
): Promise<SyncResult> {
  await waitApplied(source, checkpoint, timeoutMs, run);
  return run.stop();
}

export function assertNoFailures(link: SyncLink): void {
  assert.equal(link.counters.failed, 0, JSON.stringify(link.counters.failures));
}

/**
 * The target (without shake's own keys) equals the source value by value, as a native replica would hold it
 * (see withoutEntriesRead and STREAM_TIMES).
 */
export function assertSynced(target: KeyRecord[], source: KeyRecord[]): void {
  assertRecordsMatch(withoutEntriesRead(userKeys(target)), withoutEntriesRead(source), STREAM_TIMES);
}

/** The servers' own DEBUG DIGEST agree once shake's checkpoint key is taken off the target. */
export async function assertSameDigest(p: ServerPair): Promise<void> {
  await p.dst.del(`__shake:sync:${nameOf(p.source)}`);
  assert.equal(await p.dst.call('DEBUG', 'DIGEST'), await p.src.call('DEBUG', 'DIGEST'));
}

/**
 * Blocks the target for `seconds` (DEBUG SLEEP on a connection of its own) so that shake falls behind; `awake`
 * resolves when the target answers again.
 */
export async function blockTarget(target: RedisServer, seconds: number): Promise<{ awake: Promise<void> }> {
  const c = target.client();
  const awake = c.call('DEBUG', 'SLEEP', String(seconds)).then(() => c.disconnect());
  await sleep(100); // the server has begun to sleep
  return { awake };
}

/** Records without shake's own keys. */
export function userKeys(records: KeyRecord[]): KeyRecord[] {
  return records.filter((r) => !Buffer.from(r.key_b64, 'base64').toString('latin1').startsWith('__shake:'));
}

export async function syncStats(c: Redis): Promise<{ full: number; partialOk: number; partialErr: number }> {
  const info = await c.info('stats');
  const n = (k: string): number => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { full: n('sync_full'), partialOk: n('sync_partial_ok'), partialErr: n('sync_partial_err') };
}

export function nameOf(s: RedisServer): string {
  return `${s.host}:${s.port}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * What Redis's own replication does not carry, so a native REPLICAOF replica differs there too: a consumer
 * group's entries_read (XREADGROUP propagates as XCLAIM + XGROUP SETID without it: nil on the replica) and
 * the consumers' seen/active and PEL delivery times (the replica's clock when it applied the XCLAIM). Compare
 * without entries_read and with those times approximate (within compareRecords' approxMs).
 */
export function withoutEntriesRead(records: KeyRecord[]): KeyRecord[] {
  return records.map((r) => {
    if (r.type !== 'stream') return r;
    const v = r.value as { groups?: { entries_read: number | null }[] };
    if (!v.groups) return r;
    return {
      ...r,
      times_approx: true,
      value: { ...v, groups: v.groups.map((g) => ({ ...g, entries_read: null })) },
    } as KeyRecord;
  });
}

/**
 * Across versions, also what a 7.2+ master does not propagate or a 7.0 target cannot hold: an XREADGROUP that
 * reads nothing creates (or touches) its consumer on the master and propagates nothing (seen with
 * `redis-cli --replica` on 7.4), so consumers with an empty PEL are not compared; active_time (7.2+) has no
 * place in a 7.0 target.
 */
export function withoutUnreplicatedConsumers(records: KeyRecord[]): KeyRecord[] {
  return records.map((r) => {
    if (r.type !== 'stream') return r;
    const v = r.value as { groups?: { consumers: { pel: string[]; active_time_ms?: number | null }[] }[] };
    if (!v.groups) return r;
    const groups = v.groups.map((g) => ({
      ...g,
      consumers: g.consumers.filter((c) => c.pel.length > 0).map((c) => ({ ...c, active_time_ms: null })),
    }));
    return { ...r, value: { ...v, groups } } as KeyRecord;
  });
}

/** Resolves once the link named `name` is applying the command stream (its snapshot is loaded). */
export async function waitStreaming(progress: SyncProgress, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (![...progress.links.values()].some((l) => l.phase === 'streaming')) {
    if (Date.now() > deadline) throw new Error('sync never reached the streaming phase');
    await sleep(20);
  }
}

/**
 * Consumer seen times are the clock of whoever applied the XCLAIM: the target applies it after the spool has
 * waited for the snapshot to load (seconds on a loaded machine), so they are compared within a minute.
 */
export const STREAM_TIMES = { approxMs: 60_000 };

/** INCR / LPUSH / INCRBYFLOAT, single and in MULTI/EXEC, until stopped. */
export function incrTraffic(c: Redis): { stop: () => Promise<number> } {
  let running = true;
  let n = 0;
  const done = (async () => {
    while (running) {
      const p = c.pipeline();
      for (let i = 0; i < 20; i++) {
        const k = n % 17;
        p.incr(`n:${k}`);
        p.lpush(`l:${k}`, String(n));
        p.incrbyfloat(`f:${k}`, '0.25');
        n++;
      }
      p.call('MULTI');
      p.incr('tx:n');
      p.lpush('tx:l', String(n));
      p.incrbyfloat('tx:f', '1.5');
      p.call('EXEC');
      await p.exec();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return n;
    },
  };
}
