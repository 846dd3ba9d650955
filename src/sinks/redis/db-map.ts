import type { TargetKind } from '../../rewrite/features.js';

/**
 * Source db -> target db. `--db-map 0:5,1:6` moves db 0 to 5 and 1 to 6; `*:0` merges every db into 0.
 * Unmapped dbs keep their number on a standalone target. A cluster or a proxy has only db 0: a single source
 * db goes there without asking, but an input with several dbs needs a mapping that says how to merge
 * (otherwise keys of different dbs with the same name would silently overwrite each other).
 */

export class DbMapError extends Error {
  override readonly name = 'DbMapError';
}

export interface DbMapSpec {
  map: Map<number, number>;
  /** Target db for every source db not in `map` (`*:N`). */
  rest: number | null;
}

/** Parses `0:5,1:6` / `*:0`. */
export function parseDbMap(text: string): DbMapSpec {
  const spec: DbMapSpec = { map: new Map(), rest: null };
  for (const part of text.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const m = /^(\*|\d+)\s*:\s*(\d+)$/.exec(p);
    if (!m) throw new DbMapError(`--db-map: "${p}" is not <source-db>:<target-db> (e.g. 0:5,1:6 or *:0)`);
    const to = Number(m[2]);
    if (m[1] === '*') spec.rest = to;
    else spec.map.set(Number(m[1]), to);
  }
  return spec;
}

export class DbMapper {
  private implicit: number | null = null;
  /** Target db -> the source dbs mapped into it so far (a handful of small numbers). */
  private readonly into = new Map<number, Set<number>>();
  private lastFrom = -1;
  private lastTo = 0;

  constructor(
    private readonly spec: DbMapSpec,
    /** The target holds only db 0 (cluster, proxy). */
    private readonly singleDb: boolean,
    private readonly targetName = 'the target',
  ) {
    if (singleDb) {
      for (const [from, to] of spec.map) {
        if (to !== 0) throw new DbMapError(`--db-map ${from}:${to}: ${targetName} has only db 0`);
      }
      if (spec.rest !== null && spec.rest !== 0)
        throw new DbMapError(`--db-map *:${spec.rest}: ${targetName} has only db 0`);
    }
  }

  /** The source dbs this run has mapped into target db `to` so far. */
  sourcesOf(to: number): ReadonlySet<number> {
    return this.into.get(to) ?? new Set();
  }

  /** The target db for a source db; throws DbMapError when a single-db target would merge dbs unasked. */
  map(db: number): number {
    if (db === this.lastFrom) return this.lastTo;
    const to = this.target(db);
    let from = this.into.get(to);
    if (!from) this.into.set(to, (from = new Set()));
    from.add(db);
    this.lastFrom = db;
    this.lastTo = to;
    return to;
  }

  /**
   * Whether another source db lands in the same target db as `db` (standalone target): one the spec sends there
   * too, or one this mapper has mapped there (the stream's, and those the caller saw in the source). Then a
   * SWAPDB or FLUSHDB of `db` on the target would also touch the other source db's keys.
   */
  /**
   * No two source dbs can ever land in one target db: no `*:N`, no two entries into one db, and no entry into a
   * db whose own number is left unmapped (`0:5` while db 5 keeps its number would merge db 0 into 5).
   */
  injective(): boolean {
    if (this.spec.rest !== null) return false;
    const to = new Set<number>();
    for (const [from, t] of this.spec.map) {
      if (to.has(t)) return false;
      to.add(t);
      if (t !== from && !this.spec.map.has(t)) return false;
    }
    return true;
  }

  merges(db: number): boolean {
    const to = this.map(db);
    for (const [from, t] of this.spec.map) if (from !== db && t === to) return true;
    for (const from of this.sourcesOf(to)) if (from !== db) return true;
    return false;
  }

  private target(db: number): number {
    const mapped = this.spec.map.get(db);
    if (mapped !== undefined) return mapped;
    if (this.spec.rest !== null) return this.spec.rest;
    if (!this.singleDb) return db;
    if (this.implicit === null) {
      this.implicit = db;
      return 0;
    }
    if (this.implicit === db) return 0;
    throw new DbMapError(
      `the input holds keys of db ${this.implicit} and db ${db}, but ${this.targetName} has only db 0: ` +
        `say how to merge them with --db-map (e.g. --db-map ${this.implicit}:0,${db}:0 or --db-map '*:0'), ` +
        `or restore one db with --db ${this.implicit}`,
    );
  }
}

/**
 * Before anything is written: the DbMapError the sink's mapper would throw at the first key of a second db, for
 * the dbs the input is known to hold (an RDB file's, read ahead; a live source's INFO keyspace).
 */
export function checkDbsFit(spec: DbMapSpec | undefined, kind: TargetKind, dbs: Iterable<number>): void {
  const mapper = targetDbMapper(spec, kind);
  for (const db of [...dbs].sort((a, b) => a - b)) mapper.map(db);
}

/** The mapper of a run into a target of this kind (a cluster or a proxy has only db 0). */
export function targetDbMapper(spec: DbMapSpec | undefined, kind: TargetKind): DbMapper {
  return new DbMapper(spec ?? { map: new Map(), rest: null }, kind !== 'standalone', `a ${kind} target`);
}

/** Whether a run into a target of this kind can meet a db it must refuse (single-db target, no `*:N`). */
export function mayRefuseDbs(spec: DbMapSpec | undefined, kind: TargetKind): boolean {
  return kind !== 'standalone' && (spec?.rest ?? null) === null;
}
