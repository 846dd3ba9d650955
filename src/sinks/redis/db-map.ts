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

  /** The target db for a source db; throws DbMapError when a single-db target would merge dbs unasked. */
  map(db: number): number {
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
