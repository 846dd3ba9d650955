/**
 * What the target's command set can express, derived from its version (INFO server redis_version) and kind.
 * The rewriter (value -> plain commands) and the strategy both read this; nothing here talks to a server.
 */
export interface TargetFeatures {
  /** redis_version as [major, minor, patch] (Valkey reports its Redis-compatible version here). */
  version: [number, number, number];
  /** RESTORE ... ABSTTL / IDLETIME / FREQ (Redis 5.0). */
  restoreAbsTtl: boolean;
  /** RESTORE ... REPLACE (Redis 3.0; before it, DEL first). */
  restoreReplace: boolean;
  /** Streams: XADD, XGROUP, XCLAIM, XSETID (Redis 5.0). */
  streams: boolean;
  /** XGROUP CREATECONSUMER (Redis 6.2). */
  createConsumer: boolean;
  /** XSETID ... ENTRIESADDED / MAXDELETEDID and XGROUP CREATE ... ENTRIESREAD (Redis 7.0). */
  streamMetaV2: boolean;
  /** FUNCTION LOAD / RESTORE (Redis 7.0). */
  functions: boolean;
  /** HPEXPIREAT: per-field hash TTLs (Redis 7.4). */
  hashFieldTtl: boolean;
  /** SELECT is allowed (not a cluster with db 0 only, not a proxy). */
  select: boolean;
  /** MULTI/EXEC may be used (not a proxy). */
  multi: boolean;
  /** RESTORE may be used (not a proxy that lacks it). */
  restore: boolean;
}

export function parseRedisVersion(v: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(v.trim());
  if (!m) return [0, 0, 0];
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function versionAtLeast(v: [number, number, number], major: number, minor: number, patch = 0): boolean {
  if (v[0] !== major) return v[0] > major;
  if (v[1] !== minor) return v[1] > minor;
  return v[2] >= patch;
}

export type TargetKind = 'standalone' | 'cluster' | 'proxy';

/** The features of a target of the given kind running the given redis_version. */
export function featuresFor(version: string | [number, number, number], kind: TargetKind): TargetFeatures {
  const v = typeof version === 'string' ? parseRedisVersion(version) : version;
  const proxy = kind === 'proxy';
  return {
    version: v,
    restoreAbsTtl: versionAtLeast(v, 5, 0),
    restoreReplace: versionAtLeast(v, 3, 0),
    // Proxies (twemproxy) know no stream commands: XADD through one closes the connection.
    streams: versionAtLeast(v, 5, 0) && !proxy,
    createConsumer: versionAtLeast(v, 6, 2),
    streamMetaV2: versionAtLeast(v, 7, 0),
    functions: versionAtLeast(v, 7, 0) && !proxy,
    hashFieldTtl: versionAtLeast(v, 7, 4),
    select: kind === 'standalone',
    multi: !proxy,
    restore: !proxy,
  };
}
