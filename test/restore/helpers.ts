/**
 * Shared by the restore tests: run the restore pipeline against a live target, and say what a fixture's
 * expected records read back as on a Redis 7.0 target (what 7.0 cannot hold, or computes itself).
 */
import { openTarget, type OpenTargetOptions } from '../../src/sinks/redis/open-target.js';
import { restore, type RestoreOptions, type RestoreRun } from '../../src/pipelines/restore.js';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../harness/redis-server.js';
import { readKeyspace } from '../helpers/keyspace.js';
import type { KeyRecord, StreamRecord } from '../helpers/records.js';

export type RestoreArgs = Omit<RestoreOptions, 'target' | 'input'> & {
  input: RestoreOptions['input'] | string;
  targetKind?: OpenTargetOptions['kind'];
  connections?: number;
};

/** Restores `input` into the server at host:port and closes the connections. */
export async function restoreInto(
  target: { host: string; port: number; username?: string; password?: string },
  args: RestoreArgs,
): Promise<RestoreRun> {
  const t = await openTarget({
    connection: { host: target.host, port: target.port, username: target.username, password: target.password },
    kind: args.targetKind,
    connections: args.connections,
  });
  try {
    const input = typeof args.input === 'string' ? { path: args.input } : args.input;
    return await restore({ ...args, input, target: t });
  } finally {
    await t.close();
  }
}

/** Count of hash field TTLs in the records. */
export function fieldTtlCount(records: KeyRecord[]): number {
  return records.reduce((n, r) => n + (r.hash_field_expire_at_ms?.length ?? 0), 0);
}

/**
 * Expected records as a 7.0 target holds them: no hash field TTLs (7.0 has none: reported as dropped),
 * no consumer active time (7.2+). Stream fields that the source version did not store (null in the
 * fixture: first id, max deleted id, entries added, entries read) are computed by 7.0 on load, so they
 * are not compared: `actual` gets the fixture's nulls.
 */
export function alignFor70(expected: KeyRecord[], actual: KeyRecord[]): { expected: KeyRecord[]; actual: KeyRecord[] } {
  const exp = expected.map((r) => {
    const c: KeyRecord = { ...r };
    delete c.hash_field_expire_at_ms;
    if (r.type === 'stream') {
      const v = r.value as StreamRecord;
      c.value = {
        ...v,
        groups: v.groups.map((g) => ({
          ...g,
          consumers: g.consumers.map((cons) => ({ ...cons, active_time_ms: undefined })),
        })),
      };
    }
    return c;
  });
  const byId = new Map(exp.map((r) => [`${r.db}:${r.key_b64}`, r]));
  const act = actual.map((r) => {
    const e = byId.get(`${r.db}:${r.key_b64}`);
    if (r.type !== 'stream' || !e || e.type !== 'stream') return r;
    const v = r.value as StreamRecord;
    const ev = e.value as StreamRecord;
    const out: StreamRecord = { ...v };
    for (const f of ['first_id', 'max_deleted_entry_id', 'entries_added'] as const) {
      if ((ev[f] ?? null) === null) out[f] = null;
    }
    out.groups = v.groups.map((g) => {
      const eg = ev.groups.find((x) => x.name_b64 === g.name_b64);
      return {
        ...g,
        entries_read: eg && eg.entries_read === null ? null : g.entries_read,
        consumers: g.consumers.map((cons) => ({ ...cons, active_time_ms: undefined })),
      };
    });
    return { ...r, value: out };
  });
  return { expected: exp, actual: act };
}

/** The records with every stream value passed through `f` (other records as they are). */
export function mapStreams(records: KeyRecord[], f: (v: StreamRecord) => StreamRecord): KeyRecord[] {
  return records.map((r) => (r.type === 'stream' ? { ...r, value: f(r.value as StreamRecord) } : r));
}

/** A 5.0/6.x stream (type 15) has no first id, max deleted id, entries added or entries read. */
export function withoutStreamV2(records: KeyRecord[]): KeyRecord[] {
  return mapStreams(records, (v) => ({
    ...v,
    first_id: null,
    max_deleted_entry_id: null,
    entries_added: null,
    groups: v.groups.map((g) => ({ ...g, entries_read: null })),
  }));
}

/**
 * Consumer seen times (and active times, 7.2+) cannot be set by commands (the server uses "now"): zero them on
 * both sides.
 */
export function withoutSeenTimes(records: KeyRecord[]): KeyRecord[] {
  return mapStreams(records, (v) => ({
    ...v,
    groups: v.groups.map((g) => ({
      ...g,
      consumers: g.consumers.map((c) => ({
        ...c,
        seen_time_ms: 0,
        ...(c.active_time_ms === undefined ? {} : { active_time_ms: c.active_time_ms === null ? null : 0 }),
      })),
    })),
  }));
}

/**
 * What redis-server 7.0 itself holds after loading these files at start-up (an AOF, a preamble file, or an
 * appendonlydir with its manifest), each copied to `to` in a fresh dir: the reference for any replay.
 */
export async function loadedByRedis(files: { from: string; to: string }[]): Promise<KeyRecord[]> {
  const dir = mkdtempSync(join(tmpdir(), 'shake-aof-ref-'));
  try {
    for (const f of files) {
      mkdirSync(join(dir, f.to, '..'), { recursive: true });
      copyFileSync(f.from, join(dir, f.to));
    }
    const s = await startRedis({ config: { dir, appendonly: 'yes' } });
    try {
      return await readKeyspace({ host: s.host, port: s.port });
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
