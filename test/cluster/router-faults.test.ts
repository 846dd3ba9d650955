/**
 * Fault injection for the router with scripted nodes (a real cluster cannot produce CLUSTERDOWN, LOADING
 * or redirect loops on demand). Slot maps here are CLUSTER SLOTS replies as Redis shapes them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterRouter } from '../../src/cluster/router.js';
import type { CommandCaller, NodeAddress } from '../../src/cluster/types.js';

type Script = (argv: string[]) => unknown;

class FakeCluster {
  readonly log: string[] = [];
  constructor(private readonly nodes: Record<number, Script>) {}
  connect = (n: NodeAddress): CommandCaller => ({
    call: async (argv) => {
      const a = argv.map(String);
      this.log.push(`${n.port} ${a.join(' ')}`);
      const script = this.nodes[n.port];
      if (!script) throw new Error(`connect ECONNREFUSED ${n.host}:${n.port}`);
      const r = script(a);
      if (r instanceof Error && r.message.startsWith('reject:')) throw new Error(r.message.slice(7));
      return r;
    },
  });
}

const slots = (owner: number, other = 7002): unknown[] => [
  [0, 8191, ['127.0.0.1', owner, 'a'.repeat(40)]],
  [8192, 16383, ['127.0.0.1', other, 'b'.repeat(40)]],
];
const noSleep = async (): Promise<void> => {};

test('CLUSTERDOWN: refresh the slot map, back off, retry on the new owner', async () => {
  let down = true;
  const delays: number[] = [];
  const fake = new FakeCluster({
    7001: (a) => {
      if (a[0] === 'CLUSTER') return down ? slots(7001) : slots(7003);
      down = false;
      return new Error('reject:CLUSTERDOWN The cluster is down');
    },
    7003: (a) => (a[0] === 'CLUSTER' ? slots(7003) : Buffer.from('ok')),
  });
  const router = new ClusterRouter({
    seeds: [{ host: '127.0.0.1', port: 7001 }],
    connect: fake.connect,
    sleep: async (ms) => void delays.push(ms),
  });
  await router.refresh();
  assert.equal(String(await router.send(5, ['SET', 'k', 'v'])), 'ok');
  assert.deepEqual(delays, [10]);
  assert.equal(router.stats.refreshes, 2);
  assert.deepEqual(
    fake.log.filter((l) => l.includes('SET')),
    ['7001 SET k v', '7003 SET k v'],
  );
});

test('LOADING / TRYAGAIN back off exponentially on the same owner, then give up with ClusterRouteError', async () => {
  const delays: number[] = [];
  let n = 0;
  const fake = new FakeCluster({
    7001: (a) => (a[0] === 'CLUSTER' ? slots(7001) : ++n < 4 ? new Error('LOADING Redis is loading') : 'OK'),
  });
  const router = new ClusterRouter({
    seeds: [{ host: '127.0.0.1', port: 7001 }],
    connect: fake.connect,
    sleep: async (ms) => void delays.push(ms),
  });
  await router.refresh();
  assert.equal(await router.send(1, ['PING']), 'OK'); // error replies given as values work too
  assert.deepEqual(delays, [10, 20, 40]);

  const stuck = new FakeCluster({
    7001: (a) => (a[0] === 'CLUSTER' ? slots(7001) : new Error('reject:TRYAGAIN Multiple keys request')),
  });
  const r2 = new ClusterRouter({
    seeds: [{ host: '127.0.0.1', port: 7001 }],
    connect: stuck.connect,
    policy: { maxRetries: 3 },
    sleep: noSleep,
  });
  await r2.refresh();
  await assert.rejects(r2.send(1, ['MGET', 'a', 'b']), { name: 'ClusterRouteError', slot: 1, message: /3 retries/ });
  assert.equal(stuck.log.filter((l) => l.includes('MGET')).length, 4);
});

test('a MOVED loop ends after maxRedirects; unserved slots and unreachable seeds are errors, not guesses', async () => {
  const fake = new FakeCluster({
    7001: (a) => (a[0] === 'CLUSTER' ? slots(7001) : new Error('reject:MOVED 1 127.0.0.1:7002')),
    7002: () => new Error('reject:MOVED 1 :7001'),
  });
  const router = new ClusterRouter({
    seeds: [{ host: '127.0.0.1', port: 7001 }],
    connect: fake.connect,
    policy: { maxRedirects: 5 },
    sleep: noSleep,
    refreshIntervalMs: 1e9,
  });
  await router.refresh();
  await assert.rejects(router.send(1, ['GET', 'x']), { name: 'ClusterRouteError', message: /more than 5 redirects/ });
  assert.equal(fake.log.filter((l) => l.includes('GET')).length, 6);

  const partial = new FakeCluster({ 7001: () => [[0, 100, ['127.0.0.1', 7001]]] });
  const r2 = new ClusterRouter({ seeds: [{ host: '127.0.0.1', port: 7001 }], connect: partial.connect });
  await r2.refresh();
  await assert.rejects(r2.send(200, ['SET', 'k', 'v']), { name: 'ClusterRouteError', slot: 200 });
  assert.equal(partial.log.filter((l) => l.includes('SET')).length, 0);

  const none = new FakeCluster({});
  const r3 = new ClusterRouter({ seeds: [{ host: '127.0.0.1', port: 7009 }], connect: none.connect });
  await assert.rejects(r3.refresh(), { name: 'ClusterRouteError', message: /ECONNREFUSED/ });
});

test('ASK goes to the named node once with ASKING written right before the command; values are never parsed', async () => {
  const fake = new FakeCluster({
    7001: (a) => {
      if (a[0] === 'CLUSTER') return slots(7001);
      if (a[1] === 'asked') return new Error('reject:ASK 3 127.0.0.1:7002');
      return Buffer.from('MOVED 3 127.0.0.1:7002'); // a value that looks like a redirect
    },
    7002: (a) => (a[0] === 'ASKING' ? 'OK' : Buffer.from('from-7002')),
  });
  const router = new ClusterRouter({ seeds: [{ host: '127.0.0.1', port: 7001 }], connect: fake.connect });
  await router.refresh();
  assert.equal(String(await router.send(3, ['GET', 'asked'])), 'from-7002');
  assert.deepEqual(fake.log.slice(-3), ['7001 GET asked', '7002 ASKING', '7002 GET asked']);
  assert.equal(router.nodeForSlot(3).port, 7001, 'ASK does not change the table');
  assert.equal(String(await router.send(3, ['GET', 'plain'])), 'MOVED 3 127.0.0.1:7002');
  assert.equal(router.stats.moved, 0);
  // other error replies pass through unchanged: rejected stays rejected
  const errs = new FakeCluster({
    7001: (a) => (a[0] === 'CLUSTER' ? slots(7001) : new Error('reject:WRONGTYPE Operation against a key')),
  });
  const r2 = new ClusterRouter({ seeds: [{ host: '127.0.0.1', port: 7001 }], connect: errs.connect });
  await r2.refresh();
  await assert.rejects(r2.send(3, ['GET', 'k']), /^Error: WRONGTYPE/);
});

test('concurrent refresh() calls share one CLUSTER SLOTS read', async () => {
  const fake = new FakeCluster({ 7001: () => slots(7001) });
  const router = new ClusterRouter({ seeds: [{ host: '127.0.0.1', port: 7001 }], connect: fake.connect });
  await Promise.all([router.refresh(), router.refresh(), router.refresh()]);
  assert.equal(fake.log.length, 1);
});
