/**
 * Replies that mean "not now" (LOADING, READONLY, MASTERDOWN, TRYAGAIN, CLUSTERDOWN) are retried with the
 * router's backoff, never counted as failed keys, and each retried write lands in the db it was meant for.
 * A real Redis 7.0 answers every write; in front of it, a connection wrapper refuses a run of RESTOREs with
 * one of these replies without sending them (what a server that is loading or failing over does), so only
 * the retries can bring those keys in. The give-up bound is checked on the policy itself.
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommands, EncodedCommands, RespServerError, type RespValue } from '@shake/resp';
import { DEFAULT_RETRY_POLICY, decideStandalone, type RouteState } from '../../src/cluster/index.js';
import { restore } from '../../src/pipelines/restore.js';
import { openTarget } from '../../src/sinks/redis/open-target.js';
import { singleNodeTarget, type TargetConnection } from '../../src/sinks/redis/target.js';
import type { Argv } from '../../src/rewrite/key-rewriter.js';
import { startRedis, type RedisServer, emptyServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { alignFor70 } from './helpers.js';

const REPLIES = [
  'LOADING Redis is loading the dataset in memory',
  "READONLY You can't write against a read only replica.",
  "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
  'TRYAGAIN Multiple keys request during rehashing of slot',
  'CLUSTERDOWN The cluster is down',
];

/** Refuses RESTORE number `from` up to (not including) `to`, counted across every connection, with `reply`. */
class Refusing implements TargetConnection {
  constructor(
    private readonly inner: TargetConnection,
    private readonly plan: { reply: string; from: number; to: number; seen: number; refused: number },
  ) {}

  async sendBatch(items: readonly (Argv | EncodedCommands)[]): Promise<RespValue[]> {
    // The sink writes small RESTOREs pre-encoded: look at each command of those runs too.
    const argvs = items.flatMap((a): Argv[] => (a instanceof EncodedCommands ? decodeCommands(a.bytes) : [a]));
    const out: (RespValue | undefined)[] = new Array(argvs.length);
    const forward: Argv[] = [];
    const at: number[] = [];
    argvs.forEach((a, i) => {
      if (String(a[0]).toUpperCase() === 'RESTORE') {
        const n = this.plan.seen++;
        if (n >= this.plan.from && n < this.plan.to) {
          out[i] = new RespServerError(this.plan.reply);
          this.plan.refused++;
          return;
        }
      }
      forward.push(a);
      at.push(i);
    });
    const replies = forward.length > 0 ? await this.inner.sendBatch(forward) : [];
    at.forEach((i, k) => (out[i] = replies[k] ?? null));
    return out as RespValue[];
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('transient replies from the target are retried, not failed', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });

  for (const reply of REPLIES) {
    it(reply.split(' ')[0] as string, async () => {
      const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
      await emptyServer(server);
      const plan = { reply, from: 3, to: 3 + Math.floor(fx.records.length / 2), seen: 0, refused: 0 };
      const real = await openTarget({ connection: { host: server.host, port: server.port } });
      const node = real.masters()[0];
      assert.ok(node);
      const target = singleNodeTarget(real.profile, {
        addr: node.addr,
        conns: node.conns.map((conn) => new Refusing(conn, plan)),
      });
      try {
        const run = await restore({ input: { path: fx.rdbFile as string }, target, onConflict: 'error' });
        assert.ok(plan.refused > 0, 'the wrapper refused some RESTOREs');
        assert.deepEqual(run.counters.failures, []);
        assert.equal(run.counters.failed, 0);
        assert.equal(run.counters.keysWritten, fx.records.length);
        assert.equal(run.stats.retried, plan.refused);
        // Several dbs in this fixture: each retried key is in its own db, nothing elsewhere.
        const aligned = alignFor70(fx.records, await readKeyspace({ host: server.host, port: server.port }));
        assertRecordsMatch(aligned.actual, aligned.expected);
      } finally {
        await target.close();
      }
    });
  }
});

test('the wait-and-retry bound: backoff grows, then the key fails with the reason; MOVED without a cluster fails', () => {
  const state: RouteState = { redirects: 0, retries: 0 };
  const delays: number[] = [];
  const loading = new RespServerError('LOADING Redis is loading the dataset in memory');
  for (let i = 0; i < DEFAULT_RETRY_POLICY.maxRetries; i++) {
    const d = decideStandalone(loading, true, state);
    assert.equal(d.action, 'retry');
    if (d.action === 'retry') delays.push(d.delayMs);
  }
  assert.deepEqual(delays.slice(0, 4), [10, 20, 40, 80]);
  assert.equal(Math.max(...delays), 1000);
  const last = decideStandalone(loading, true, state);
  assert.equal(last.action, 'fail');
  if (last.action === 'fail') assert.match(last.error.message, /gave up after 20 retries: LOADING/);
  assert.deepEqual(decideStandalone(new RespServerError('ERR wrong number'), true, state), { action: 'done' });
  const moved = decideStandalone(new RespServerError('MOVED 1 127.0.0.1:7000'), true, { redirects: 0, retries: 0 });
  assert.equal(moved.action, 'fail');
});
