/**
 * Key -> slot -> node, and what to do when a node disagrees. The one place of shake that knows about
 * MOVED / ASK / TRYAGAIN / CLUSTERDOWN / LOADING (classified by redirect.ts):
 * - MOVED: the slot table is updated for that slot, the command goes to the new owner, and a full refresh
 *   of the slot map runs in the background (other slots probably moved too);
 * - ASK: ASKING + the command on the named node, written back to back on one connection, for this one
 *   command only (the table is not changed);
 * - TRYAGAIN / LOADING / MASTERDOWN: back off, retry on the slot's owner;
 * - CLUSTERDOWN / READONLY: refresh the slot map, back off, retry on the (new) owner.
 * A command is only ever sent to the slot table's owner of its slot or to the node a MOVED/ASK named;
 * a slot nobody serves is an error, never a guess. Connection failures are not retried here (a write may
 * or may not have been applied: the sink decides).
 * Sinks that pipeline can route with nodeForSlot() and feed each reply to decide(); send() is that loop
 * for one command. decideStandalone() is the same policy for a server that is not a cluster (the wait-and-retry
 * replies; a MOVED/ASK there is an error), so every writer of shake follows one set of rules.
 */
import { ClusterRouteError } from './errors.js';
import { keySlot } from './key-slot.js';
import { parseRedirect, type RedirectKind } from './redirect.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';
import { SlotTable } from './slots.js';
import { addressKey, type CommandCaller, type ConnectNode, type NodeAddress, type SlotNode } from './types.js';

export interface RouterOptions {
  /** Where to read the slot map from first (any node of the cluster). */
  seeds: NodeAddress[];
  connect: ConnectNode;
  policy?: Partial<RetryPolicy>;
  /** Minimum time between background refreshes triggered by MOVED (default 1000 ms). */
  refreshIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Per-command routing state, threaded through decide(). */
export interface RouteState {
  redirects: number;
  retries: number;
}

export type RouteDecision =
  | { action: 'done' }
  /** Send again; to `node` when given, else to the slot's owner (after refreshing the map when `refresh`). */
  | { action: 'retry'; node?: SlotNode; asking: boolean; delayMs: number; refresh: boolean }
  | { action: 'fail'; error: ClusterRouteError };

function routeFailure(slot: number, why: string, reply: unknown): RouteDecision {
  const last = reply instanceof Error ? reply.message : String(reply);
  const where = slot >= 0 ? `slot ${slot}: ` : '';
  return { action: 'fail', error: new ClusterRouteError(`${where}${why}: ${last}`, slot, { cause: reply }) };
}

/** TRYAGAIN / CLUSTERDOWN / LOADING / READONLY / MASTERDOWN: back off and send again, within the policy's bound. */
function waitAndRetry(
  slot: number,
  kind: RedirectKind,
  reply: unknown,
  state: RouteState,
  p: RetryPolicy,
): RouteDecision {
  if (++state.retries > p.maxRetries) return routeFailure(slot, `gave up after ${p.maxRetries} retries`, reply);
  const refresh = kind === 'clusterdown' || kind === 'readonly';
  return { action: 'retry', asking: false, delayMs: p.backoffMs(state.retries - 1), refresh };
}

/**
 * decide() for a server that is not a cluster (standalone, proxy): the same wait-and-retry replies back off
 * (a server loading its dataset, a failover in progress), and a MOVED/ASK is an error (nowhere to go).
 */
export function decideStandalone(
  reply: unknown,
  failed: boolean,
  state: RouteState,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): RouteDecision {
  const r = failed || reply instanceof Error ? parseRedirect(reply) : undefined;
  if (!r) return { action: 'done' };
  if (r.kind === 'moved' || r.kind === 'ask') return routeFailure(-1, 'a redirection from a non-cluster server', reply);
  return waitAndRetry(-1, r.kind, reply, state, policy);
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ClusterRouter {
  readonly policy: RetryPolicy;
  private current: SlotTable | undefined;
  private readonly pool = new Map<string, CommandCaller>();
  private inflight: Promise<SlotTable> | undefined;
  private lastRefresh = 0;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly refreshIntervalMs: number;
  /** How many MOVED / ASK / retry replies were handled (for counters and tests). */
  readonly stats = { moved: 0, ask: 0, retries: 0, refreshes: 0 };

  constructor(private readonly opts: RouterOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.policy };
    this.sleep = opts.sleep ?? defaultSleep;
    this.refreshIntervalMs = opts.refreshIntervalMs ?? 1000;
  }

  /** The slot map (after the first refresh()). */
  get table(): SlotTable {
    if (!this.current) throw new ClusterRouteError('cluster router used before refresh()', -1);
    return this.current;
  }

  /** Re-read the slot map (CLUSTER SLOTS) from a known master or a seed; concurrent callers share one read. */
  refresh(): Promise<SlotTable> {
    this.inflight ??= this.readSlotMap().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async readSlotMap(): Promise<SlotTable> {
    const candidates = new Map<string, NodeAddress>();
    for (const n of this.current?.masters() ?? []) candidates.set(addressKey(n), n);
    for (const n of this.opts.seeds) candidates.set(addressKey(n), n);
    const problems: string[] = [];
    for (const node of candidates.values()) {
      try {
        const reply = await this.connection(node).call(['CLUSTER', 'SLOTS']);
        if (reply instanceof Error) throw reply;
        const table = SlotTable.fromClusterSlots(reply, node.host);
        if (table.ranges().length === 0) throw new Error('no slot is assigned');
        this.current = table;
        this.lastRefresh = Date.now();
        this.stats.refreshes++;
        return table;
      } catch (err) {
        problems.push(`${addressKey(node)}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    throw new ClusterRouteError(`could not read the cluster slot map: ${problems.join('; ')}`, -1);
  }

  slotOf(key: Uint8Array | string): number {
    return keySlot(key);
  }

  /** The master serving `slot`; a slot nobody serves is an error. */
  nodeForSlot(slot: number): SlotNode {
    const node = this.table.masterOf(slot);
    if (!node) throw new ClusterRouteError(`hash slot ${slot} is not served by any node`, slot);
    return node;
  }

  nodeForKey(key: Uint8Array | string): SlotNode {
    return this.nodeForSlot(keySlot(key));
  }

  /** The (cached) connection to a node. */
  connection(node: NodeAddress): CommandCaller {
    const k = addressKey(node);
    let c = this.pool.get(k);
    if (!c) {
      c = this.opts.connect({ host: node.host, port: node.port });
      this.pool.set(k, c);
    }
    return c;
  }

  /** Every connection opened so far (so the owner can close them). */
  connections(): CommandCaller[] {
    return [...this.pool.values()];
  }

  /**
   * The policy: given the reply `from` sent for a command on `slot` (`failed`: the call rejected with it),
   * what next. Updates the slot table on MOVED.
   */
  decide(slot: number, reply: unknown, failed: boolean, from: NodeAddress, state: RouteState): RouteDecision {
    const r = failed || reply instanceof Error ? parseRedirect(reply) : undefined;
    if (!r) return { action: 'done' };
    const p = this.policy;
    if (r.kind === 'moved' || r.kind === 'ask') {
      if (++state.redirects > p.maxRedirects) {
        return this.fail(slot, `more than ${p.maxRedirects} redirects (last: ${r.kind} to ${r.host}:${r.port})`, reply);
      }
      const node: SlotNode = { host: r.host === '' ? from.host : r.host, port: r.port };
      if (r.kind === 'ask') {
        this.stats.ask++;
        return { action: 'retry', node, asking: true, delayMs: 0, refresh: false };
      }
      this.stats.moved++;
      this.table.setMaster(r.slot, node);
      this.refreshSoon();
      return { action: 'retry', node, asking: false, delayMs: 0, refresh: false };
    }
    const d = waitAndRetry(slot, r.kind, reply, state, p);
    if (d.action === 'retry') this.stats.retries++;
    return d;
  }

  private fail(slot: number, why: string, reply: unknown): RouteDecision {
    return routeFailure(slot, why, reply);
  }

  private refreshSoon(): void {
    if (this.inflight || Date.now() - this.lastRefresh < this.refreshIntervalMs) return;
    this.refresh().catch(() => undefined);
  }

  /** Send one command for `slot`, following the policy. Resolves/rejects like the connection did. */
  async send(slot: number, argv: readonly (string | Buffer)[]): Promise<unknown> {
    const state: RouteState = { redirects: 0, retries: 0 };
    if (!this.current) await this.refresh();
    let node: SlotNode = this.nodeForSlot(slot);
    let asking = false;
    for (;;) {
      const conn = this.connection(node);
      let reply: unknown;
      let failed = false;
      try {
        if (asking) {
          // Back to back on one connection: ASKING holds for exactly the next command.
          const [, res] = await Promise.allSettled([conn.call(['ASKING']), conn.call(argv)]);
          if (res.status === 'fulfilled') reply = res.value;
          else [reply, failed] = [res.reason, true];
        } else {
          reply = await conn.call(argv);
        }
      } catch (err) {
        [reply, failed] = [err, true];
      }
      const d = this.decide(slot, reply, failed, node, state);
      if (d.action === 'done') {
        if (failed) throw reply;
        return reply;
      }
      if (d.action === 'fail') throw d.error;
      if (d.delayMs > 0) await this.sleep(d.delayMs);
      if (d.refresh) await this.refresh().catch(() => undefined);
      asking = d.asking;
      node = d.node ?? this.nodeForSlot(slot);
    }
  }

  /** send() for a key's slot. */
  sendKey(key: Uint8Array | string, argv: readonly (string | Buffer)[]): Promise<unknown> {
    return this.send(keySlot(key), argv);
  }
}
