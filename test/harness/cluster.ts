/**
 * `startCluster()`: a real Redis Cluster of N masters (and optionally one replica each) on free loopback
 * ports, built the way `redis-cli --cluster create` does it but over plain commands: distinct config
 * epochs, CLUSTER ADDSLOTSRANGE (an even split of the 16384 slots), CLUSTER MEET, CLUSTER REPLICATE;
 * then it waits until every node says cluster_state:ok and all nodes report the same CLUSTER NODES view.
 */
import { Cluster, type ClusterOptions as IoClusterOptions, type Redis } from 'ioredis';
import { parseClusterNodes, type NodesLine } from './cluster-nodes.js';
import { startRedis, type ClientAuth, type RedisServer } from './redis-server.js';
import type { TestCA } from './tls.js';

export const CLUSTER_SLOTS = 16384;

export interface StartClusterOptions {
  masters?: number;
  replicasPerMaster?: 0 | 1;
  /** Extra redis.conf directives for every node. */
  config?: Record<string, string | string[]>;
  password?: string;
  elasticache?: boolean;
  /** TLS for clients, the cluster bus and replication (`tls-cluster yes`, `tls-replication yes`). */
  tls?: boolean | TestCA;
  /** How long to wait for the cluster to converge (default 20 s). */
  timeoutMs?: number;
}

export interface ClusterNode {
  host: '127.0.0.1';
  port: number;
  id: string;
  role: 'master' | 'replica';
  /** For replicas: the master's node id. */
  masterId?: string;
  /** Inclusive slot ranges served (masters; as of start-up, see `topology()` for the current view). */
  slots: [number, number][];
  server: RedisServer;
}

export interface RedisCluster {
  nodes: ClusterNode[];
  masters(): ClusterNode[];
  /** An ioredis Cluster client seeded with every master. */
  client(options?: IoClusterOptions, auth?: ClientAuth): Cluster;
  /** A plain client to one node. */
  nodeClient(node: ClusterNode, auth?: ClientAuth): Redis;
  /** Re-read CLUSTER NODES from a node (default: the first) and return the current view. */
  topology(from?: ClusterNode): Promise<NodesLine[]>;
  /** Wait until every node reports cluster_state:ok and the same CLUSTER NODES view. */
  waitConverged(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function evenSlotRanges(n: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const start = Math.floor((i * CLUSTER_SLOTS) / n);
    const end = Math.floor(((i + 1) * CLUSTER_SLOTS) / n) - 1;
    ranges.push([start, end]);
  }
  return ranges;
}

export async function startCluster(opts: StartClusterOptions = {}): Promise<RedisCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 0;
  if (masters < 1) throw new Error('startCluster: masters must be >= 1');
  const config: Record<string, string | string[]> = {
    'cluster-node-timeout': '5000',
    'repl-diskless-sync-delay': '0',
    ...(opts.password ? { masterauth: opts.password } : {}),
    ...(opts.tls ? { 'tls-cluster': 'yes', 'tls-replication': 'yes' } : {}),
    ...opts.config,
  };
  const total = masters * (1 + replicas);
  const started = await Promise.allSettled(
    Array.from({ length: total }, () =>
      startRedis({ cluster: true, config, password: opts.password, elasticache: opts.elasticache, tls: opts.tls }),
    ),
  );
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stopAll = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const admins = servers.map((s) => {
    const c = s.client();
    c.on('error', () => {});
    return c;
  });
  try {
    const nodes = await build(servers, admins, masters, replicas);
    const cluster = makeHandle(nodes, stopAll);
    await cluster.waitConverged(opts.timeoutMs ?? 20000);
    return cluster;
  } catch (err) {
    await stopAll();
    throw err;
  } finally {
    for (const a of admins) a.disconnect();
  }
}

async function build(
  servers: RedisServer[],
  admins: Redis[],
  masters: number,
  replicas: number,
): Promise<ClusterNode[]> {
  const ids = await Promise.all(admins.map(async (a) => String(await a.call('CLUSTER', 'MYID'))));
  const ranges = evenSlotRanges(masters);
  // Distinct epochs up front (as redis-cli does) so no epoch collision has to be resolved by gossip.
  await Promise.all(admins.map((a, i) => a.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1))));
  await Promise.all(
    ranges.map(([start, end], i) => admins[i]!.call('CLUSTER', 'ADDSLOTSRANGE', String(start), String(end))),
  );
  // Every node meets every other one: no waiting for gossip to spread the membership.
  await Promise.all(
    admins.flatMap((a, i) =>
      servers.flatMap((s, j) =>
        i === j ? [] : [a.call('CLUSTER', 'MEET', s.host, String(s.port), String(s.clusterPort))],
      ),
    ),
  );
  const nodes: ClusterNode[] = servers.map((server, i) => ({
    host: '127.0.0.1',
    port: server.port,
    id: ids[i]!,
    role: i < masters ? 'master' : 'replica',
    slots: i < masters ? [ranges[i]!] : [],
    server,
  }));
  if (replicas > 0) {
    await waitAllKnown(admins, servers.length);
    await Promise.all(
      nodes.slice(masters).map(async (replica, j) => {
        const master = nodes[j % masters]!;
        replica.masterId = master.id;
        await admins[masters + j]!.call('CLUSTER', 'REPLICATE', master.id);
      }),
    );
  }
  return nodes;
}

async function waitAllKnown(admins: Redis[], total: number, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = await Promise.all(
      admins.map(async (a) => parseClusterNodes(String(await a.call('CLUSTER', 'NODES')))),
    );
    if (views.every((v) => v.length === total && v.every((n) => !n.flags.includes('handshake')))) return;
    if (Date.now() > deadline) {
      const seen = views.map((v) => v.map((n) => `${n.port}:${n.flags.join(',')}`).join(' ')).join('\n');
      throw new Error(`startCluster: nodes did not meet in ${timeoutMs} ms; their views:\n${seen}`);
    }
    await sleep(50);
  }
}

/** Canonical text of a CLUSTER NODES view, without the parts that legitimately differ per node. */
function viewKey(v: NodesLine[]): string {
  return v
    .map((n) => {
      const flags = n.flags
        .filter((f) => f !== 'myself')
        .sort()
        .join(',');
      const slots = n.slots.map(([a, b]) => `${a}-${b}`).join(' ');
      return `${n.id} ${n.port} ${flags} ${n.masterId ?? '-'} ${n.linkState} ${slots}`;
    })
    .sort()
    .join('\n');
}

function makeHandle(nodes: ClusterNode[], stopAll: () => Promise<void>): RedisCluster {
  const admin = (n: ClusterNode): Redis => {
    const c = n.server.client();
    c.on('error', () => {});
    return c;
  };
  const handle: RedisCluster = {
    nodes,
    masters: () => nodes.filter((n) => n.role === 'master'),
    client: (options = {}, auth = {}) => {
      const seed = handle.masters()[0]!;
      const redisOptions = seed.server.connectOptions(auth);
      delete redisOptions.host;
      delete redisOptions.port;
      return new Cluster(
        handle.masters().map((m) => ({ host: m.host, port: m.port })),
        { ...options, redisOptions: { ...redisOptions, ...options.redisOptions } },
      );
    },
    nodeClient: (node, auth) => node.server.client(auth),
    topology: async (from = nodes[0]!) => {
      const c = admin(from);
      try {
        return parseClusterNodes(String(await c.call('CLUSTER', 'NODES')));
      } finally {
        c.disconnect();
      }
    },
    waitConverged: async (timeoutMs = 20000) => {
      const deadline = Date.now() + timeoutMs;
      const clients = nodes.map(admin);
      try {
        let last = '';
        for (;;) {
          const infos = await Promise.all(clients.map(async (c) => String(await c.call('CLUSTER', 'INFO'))));
          const views = await Promise.all(
            clients.map(async (c) => viewKey(parseClusterNodes(String(await c.call('CLUSTER', 'NODES'))))),
          );
          const links = await Promise.all(
            nodes.map(
              async (n, i) =>
                n.role === 'master' || /master_link_status:up/.test(String(await clients[i]!.info('replication'))),
            ),
          );
          const ok = infos.every((i) => /cluster_state:ok/.test(i)) && links.every(Boolean);
          const agree = views.every((v) => v === views[0]);
          const healthy =
            (views[0] ?? '').split('\n').length === nodes.length && !/fail|handshake|noaddr/.test(views[0] ?? '');
          if (ok && agree && healthy) return;
          last = `state ok=${ok} agree=${agree} healthy=${healthy}\n${views.join('\n--\n')}`;
          if (Date.now() > deadline) throw new Error(`cluster did not converge in ${timeoutMs} ms:\n${last}`);
          await sleep(50);
        }
      } finally {
        for (const c of clients) c.disconnect();
      }
    },
    stop: stopAll,
  };
  return handle;
}
