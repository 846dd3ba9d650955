/**
 * Connects to a target and learns what it is: standalone, cluster or proxy (given, or detected: INFO server
 * says redis_mode:cluster; a server that refuses INFO, as twemproxy does, is taken for a proxy), its version
 * (INFO server: redis_version, or valkey_version) and so the RDB version its RESTORE accepts. Opens
 * `connections` pipelined connections per master; for a cluster, a slot router (src/cluster) keeps the
 * slot map and new masters are connected on first use.
 */
import { clockOffsetMs } from '../../redis/clock.js';
import { RespServerError } from '@shake/resp';
import { ClusterRouter, addressKey, keySlot, type NodeAddress } from '../../cluster/index.js';
import { defaultConfig } from '../../config/schema.js';
import { connect, LazyConnection, RedisAuthError, RefusalReply, type ConnectionOptions } from '../../redis/index.js';
import { infoText, parseInfo, serverVersion, type ServerVersion } from '../../redis/server-info.js';
import { featuresFor, type TargetKind } from '../../rewrite/features.js';
import type { TargetProfile } from './strategy.js';
import { singleNodeTarget, type RedisTarget, type TargetNode } from './target.js';

export interface OpenTargetOptions {
  /** host, port, TLS, username, password (db is ignored here: use --db-map). */
  connection: ConnectionOptions;
  /** Given kind, or detect. */
  kind?: TargetKind;
  /** Pipelined connections per master (default: the schema's [restore] connections). */
  connections?: number;
  /** For a proxy, which answers no INFO: the version of the servers behind it (default 5.0.0). */
  proxyServerVersion?: string;
}

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

export async function openTarget(opts: OpenTargetOptions): Promise<RedisTarget> {
  const base: ConnectionOptions = { ...opts.connection, db: 0, name: opts.connection.name ?? 'shake-restore' };
  const perNode = Math.max(1, opts.connections ?? defaultConfig().restore.connections);
  let kind = opts.kind;
  // A proxy answers no INFO: the version of the servers behind it, as given.
  let server: ServerVersion = serverVersion(new Map(), opts.proxyServerVersion ?? '5.0.0');
  let clock = 0;
  if (kind !== 'proxy') {
    const probe = await connect({ ...base, name: undefined });
    try {
      const reply = await probe.call(['INFO', 'server']).catch((err: unknown) => err);
      const info = infoText(reply);
      // A refusal (NOAUTH, NOPERM) is not a proxy: its message says what to do (redis/errors.ts).
      if (reply instanceof RefusalReply) throw new RedisAuthError(reply.message, probe.address);
      if (info === null) {
        if (kind) throw new TargetError(`INFO server failed on the target: ${String((reply as Error).message)}`);
        kind = 'proxy';
      } else {
        const fields = parseInfo(info);
        server = serverVersion(fields, server.redisVersion);
        kind ??= fields.get('redis_mode') === 'cluster' ? 'cluster' : 'standalone';
        clock = await clockOffsetMs((argv) => probe.call(argv));
      }
    } finally {
      await probe.close().catch(() => {});
    }
  }
  // A proxy (twemproxy) closes the connection on CLIENT SETNAME, as on INFO: no name there.
  if (kind === 'proxy') delete base.name;
  const profile: TargetProfile = {
    kind: kind ?? 'standalone',
    features: featuresFor(server.redisVersion, kind ?? 'standalone'),
    rdbVersion: server.rdbVersion,
  };
  const nodeOf = (addr: NodeAddress): TargetNode => ({
    addr: addressKey(addr),
    conns: Array.from({ length: perNode }, () => new LazyConnection({ ...base, host: addr.host, port: addr.port })),
  });
  if (profile.kind !== 'cluster') {
    const node = nodeOf(base);
    // Connect now so a bad address or password fails before anything is read.
    await (node.conns[0] as LazyConnection).call(['PING']).then((r) => {
      if (r instanceof RefusalReply) throw new RedisAuthError(r.message, node.addr);
      if (r instanceof RespServerError && profile.kind !== 'proxy') throw new TargetError(`PING: ${r.message}`);
    });
    return Object.assign(singleNodeTarget(profile, node), {
      clockOffsetMs: clock,
      connection: { ...base, name: undefined },
    });
  }
  return Object.assign(await openCluster(profile, base, nodeOf), { clockOffsetMs: clock });
}

async function openCluster(
  profile: TargetProfile,
  base: ConnectionOptions,
  nodeOf: (a: NodeAddress) => TargetNode,
): Promise<RedisTarget> {
  const control = new Map<string, LazyConnection>();
  const router = new ClusterRouter({
    seeds: [{ host: base.host, port: base.port }],
    connect: (n) => {
      const c = new LazyConnection({ ...base, host: n.host, port: n.port, name: 'shake-restore-control' });
      control.set(addressKey(n), c);
      return c;
    },
  });
  await router.refresh();
  const nodes = new Map<string, TargetNode>();
  const addresses = new Map<TargetNode, NodeAddress>();
  const get = (a: NodeAddress): TargetNode => {
    const k = addressKey(a);
    let n = nodes.get(k);
    if (!n) {
      n = nodeOf(a);
      nodes.set(k, n);
      addresses.set(n, { host: a.host, port: a.port });
    }
    return n;
  };
  for (const m of router.table.masters()) get(m);
  return {
    profile,
    masters: () => router.table.masters().map(get),
    routing: {
      nodeForKey: (key) => get(router.nodeForKey(key)),
      decide: (slot, reply, from, state) => {
        const d = router.decide(slot, reply, true, addresses.get(from) ?? base, state);
        if (d.action === 'done') return d;
        if (d.action === 'fail') return { action: 'fail', message: d.error.message };
        return { ...d, node: d.node ? get(d.node) : null };
      },
      refresh: async () => {
        await router.refresh();
      },
      slotOf: (key) => keySlot(key),
    },
    close: async () => {
      const all = [...nodes.values()].flatMap((n) => n.conns).concat([...control.values()]);
      await Promise.all(all.map((c) => c.close().catch(() => {})));
    },
  };
}
