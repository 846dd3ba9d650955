/** What the Redis sink did beyond the shared Counters: how keys were written and what could not be kept. */
export interface RedisSinkStats {
  /** Keys written by RESTORE of the parser's captured body (restamped for the target). */
  restoreRaw: number;
  /** Keys written by RESTORE of a body re-encoded for the target's RDB version. */
  restoreEncoded: number;
  /** String keys without a TTL sent many to one MSET / MSETNX (string-batch.ts). */
  stringBatched: number;
  /** Keys written as plain commands (big keys, proxies, values no payload can carry to this target). */
  rewritten: number;
  /** Hash fields written WITHOUT their TTL because the target has no HPEXPIREAT (Redis < 7.4). */
  droppedFieldTtls: number;
  /** Keys written that lost at least one field TTL (a key not written, by conflict or failure, lost nothing). */
  keysWithDroppedFieldTtls: number;
  /** The first of those keys (DROPPED_TTL_KEYS_SHOWN), for the warning. */
  droppedFieldTtlKeys: { db: number; key: Buffer }[];
  /** Hash fields skipped because their own TTL had passed. */
  expiredFields: number;
  /** Stream details commands cannot express (consumer times, PEL entries of deleted messages, ...). */
  lostStreamDetails: number;
  functionsLoaded: number;
  functionsSkipped: number;
  /** Libraries left out under --functions skip because the target cannot hold functions. */
  functionsUnsupported: number;
  /** AOF MULTI blocks that could not stay atomic on this target (proxy, or keys on several cluster nodes). */
  splitTransactions: number;
  /** Cluster redirections followed (MOVED/ASK). */
  redirects: number;
  /** Commands sent again after a wait-and-retry reply (LOADING, READONLY, MASTERDOWN, TRYAGAIN, CLUSTERDOWN). */
  retried: number;
}

/** Keys named in the dropped-field-TTL warning. */
export const DROPPED_TTL_KEYS_SHOWN = 5;

export function emptyStats(): RedisSinkStats {
  return {
    restoreRaw: 0,
    stringBatched: 0,
    restoreEncoded: 0,
    rewritten: 0,
    droppedFieldTtls: 0,
    keysWithDroppedFieldTtls: 0,
    droppedFieldTtlKeys: [],
    expiredFields: 0,
    lostStreamDetails: 0,
    functionsLoaded: 0,
    functionsSkipped: 0,
    functionsUnsupported: 0,
    splitTransactions: 0,
    redirects: 0,
    retried: 0,
  };
}
