/**
 * The slot table: 16384 entries, each pointing at the shard (master + replicas) serving that slot, filled
 * from CLUSTER SLOTS: an array of [start, end, master, replica...], each node [endpoint, port, id?, meta?].
 * An endpoint of null, '' or '?' means "the host this reply came from" (cluster-preferred-endpoint-type).
 * Lookups are one typed-array read; MOVED updates a single slot.
 */
import { ClusterRouteError } from './errors.js';
import { CLUSTER_SLOTS } from './key-slot.js';
import { addressKey, type SlotNode } from './types.js';

export interface Shard {
  master: SlotNode;
  replicas: SlotNode[];
}

export interface SlotRange extends Shard {
  start: number;
  end: number;
}

function text(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  throw new ClusterRouteError(`CLUSTER SLOTS: ${what} is not a string`, -1);
}

function int(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number(text(v, what));
  if (!Number.isInteger(n)) throw new ClusterRouteError(`CLUSTER SLOTS: ${what} is not an integer`, -1);
  return n;
}

function node(v: unknown, fallbackHost: string): SlotNode {
  if (!Array.isArray(v) || v.length < 2) throw new ClusterRouteError('CLUSTER SLOTS: bad node entry', -1);
  const endpoint = v[0] === null || v[0] === undefined ? '' : text(v[0], 'endpoint');
  const host = endpoint === '' || endpoint === '?' ? fallbackHost : endpoint;
  const port = int(v[1], 'port');
  return v[2] === undefined || v[2] === null ? { host, port } : { host, port, id: text(v[2], 'node id') };
}

export class SlotTable {
  /** Index into `shards` per slot; -1 when no node serves it. */
  private readonly owner = new Int32Array(CLUSTER_SLOTS).fill(-1);
  private readonly shards: Shard[] = [];

  /** Build from a CLUSTER SLOTS reply; `fallbackHost` is the host that answered. */
  static fromClusterSlots(reply: unknown, fallbackHost: string): SlotTable {
    if (!Array.isArray(reply)) throw new ClusterRouteError('CLUSTER SLOTS: reply is not an array', -1);
    const t = new SlotTable();
    for (const entry of reply) {
      if (!Array.isArray(entry) || entry.length < 3) throw new ClusterRouteError('CLUSTER SLOTS: bad range', -1);
      const start = int(entry[0], 'start slot');
      const end = int(entry[1], 'end slot');
      if (start < 0 || end >= CLUSTER_SLOTS || start > end) {
        throw new ClusterRouteError(`CLUSTER SLOTS: bad range ${start}-${end}`, start);
      }
      const [master, ...replicas] = entry.slice(2).map((n: unknown) => node(n, fallbackHost));
      t.assign(start, end, { master: master as SlotNode, replicas });
    }
    return t;
  }

  /** Give slots [start, end] to a shard (reusing an identical shard entry). */
  assign(start: number, end: number, shard: Shard): void {
    const key = shardKey(shard);
    let idx = this.shards.findIndex((s) => shardKey(s) === key);
    if (idx === -1) idx = this.shards.push(shard) - 1;
    this.owner.fill(idx, start, end + 1);
  }

  /** After MOVED: the slot is now served by `master` (replicas unknown until the next refresh). */
  setMaster(slot: number, master: SlotNode): void {
    const cur = this.shardOf(slot);
    if (cur && addressKey(cur.master) === addressKey(master)) return;
    const known = this.shards.find((s) => addressKey(s.master) === addressKey(master));
    this.assign(slot, slot, known ?? { master, replicas: [] });
  }

  shardOf(slot: number): Shard | undefined {
    const i = this.owner[slot];
    return i === undefined || i < 0 ? undefined : this.shards[i];
  }

  masterOf(slot: number): SlotNode | undefined {
    return this.shardOf(slot)?.master;
  }

  /** Distinct masters that serve at least one slot. */
  masters(): SlotNode[] {
    const seen = new Map<string, SlotNode>();
    for (const r of this.ranges()) seen.set(addressKey(r.master), r.master);
    return [...seen.values()];
  }

  /** Contiguous ranges per shard, in slot order. */
  ranges(): SlotRange[] {
    const out: SlotRange[] = [];
    let start = 0;
    for (let s = 1; s <= CLUSTER_SLOTS; s++) {
      if (s < CLUSTER_SLOTS && this.owner[s] === this.owner[start]) continue;
      const shard = this.shardOf(start);
      if (shard) out.push({ start, end: s - 1, ...shard });
      start = s;
    }
    return out;
  }

  /** Number of slots with no serving node. */
  uncovered(): number {
    let n = 0;
    for (let s = 0; s < CLUSTER_SLOTS; s++) if ((this.owner[s] as number) < 0) n++;
    return n;
  }
}

function shardKey(s: Shard): string {
  return [s.master, ...s.replicas].map(addressKey).join(',');
}
