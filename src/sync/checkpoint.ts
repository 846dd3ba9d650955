/**
 * Where `shake sync` keeps its place: in the target itself, in keys named `__shake:sync:<name>...`, written in
 * the same MULTI/EXEC as the commands they cover, so a batch and its checkpoint land together or not at all
 * (a crash of shake, a dropped target connection: the target either has both or neither).
 *
 *   __shake:sync:<name>            "<replid> <offset> <db>"   standalone: the only key (db 0, same transaction);
 *                                                             cluster: the base, every slot applied up to here
 *   __shake:sync:<name>:{<tag>}    "<replid> <offset> <db>"   cluster: slot of <tag> applied up to <offset>
 *   __shake:sync:<name>            "loading <replid>"         a snapshot is being loaded: the target is shake's,
 *                                                             incomplete (a restart loads it again)
 *
 * `<name>` is the source master's host:port unless [sync] name says otherwise; `<offset>` is the master's
 * replication offset just past the last command applied (PSYNC resumes at offset + 1); `<db>` is the source db
 * the stream had SELECTed there (the master does not repeat SELECT after a partial resync).
 */
import { keySlot } from '../cluster/index.js';

export const CHECKPOINT_PREFIX = '__shake:sync:';

export interface Checkpoint {
  replid: string;
  offset: number;
  /** Source db selected at `offset`. */
  db: number;
}

export type CheckpointState = { kind: 'none' } | { kind: 'loading' } | ({ kind: 'at' } & Checkpoint);

export function checkpointKey(name: string): string {
  return `${CHECKPOINT_PREFIX}${name}`;
}

export function encodeCheckpoint(c: Checkpoint): string {
  return `${c.replid} ${c.offset} ${c.db}`;
}

export function loadingMark(replid: string | null): string {
  return `loading ${replid ?? '?'}`;
}

/** Parses a checkpoint value; throws on anything that is not one (someone else's key). */
export function parseCheckpoint(key: string, value: string | null): CheckpointState {
  if (value === null) return { kind: 'none' };
  if (value.startsWith('loading ')) return { kind: 'loading' };
  const m = /^(\S+) (\d+) (\d+)$/.exec(value);
  if (!m) throw new Error(`${key} in the target holds "${value.slice(0, 60)}", not a shake sync checkpoint`);
  return { kind: 'at', replid: m[1] as string, offset: Number(m[2]), db: Number(m[3]) };
}

let slotTags: string[] | null = null;

/** For each of the 16384 slots, a short string whose hash slot is that slot (for `{tag}` key names). */
export function slotTag(slot: number): string {
  if (!slotTags) {
    const tags = new Array<string>(16384);
    let left = 16384;
    for (let i = 0; left > 0; i++) {
      const s = i.toString(36);
      const sl = keySlot(Buffer.from(s));
      if (tags[sl] === undefined) {
        tags[sl] = s;
        left--;
      }
    }
    slotTags = tags;
  }
  return slotTags[slot] as string;
}

export function slotCheckpointKey(name: string, slot: number): string {
  return `${CHECKPOINT_PREFIX}${name}:{${slotTag(slot)}}`;
}
