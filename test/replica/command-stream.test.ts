import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { replicaHandshake } from '../../src/replica/handshake.js';
import { ReplicaLink } from '../../src/replica/link.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

for (const diskless of [false, true]) {
  describe(`replica command stream after a ${diskless ? 'diskless' : 'disk'} snapshot (real 7.0 master)`, () => {
    let master: RedisServer;
    before(async () => {
      master = await startRedis({
        config: { 'repl-diskless-sync': diskless ? 'yes' : 'no', 'repl-diskless-sync-delay': '0' },
      });
    });
    after(() => master.stop());

    test('receives the writes in order, and REPLCONF ACK offsets satisfy WAIT', async () => {
      const c = master.client();
      await c.set('before', 'snapshot');
      const socket = connect(master.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      const link = new ReplicaLink(socket, `127.0.0.1:${master.port}`, 10_000);
      let snapshotBytes = 0;
      const resync = await replicaHandshake(
        link,
        { listeningPort: socket.localPort ?? 0, rdbOnly: false },
        { onStart: () => {}, onChunk: (p) => ((snapshotBytes += p.length), true), onEnd: () => {} },
      );
      await link.snapshotDone();
      assert.ok(snapshotBytes > 0);
      const commands: string[][] = [];
      const offsets: number[] = [];
      let failure: Error | null = null;
      link.startCommandStream(resync.offset ?? 0, {
        onCommand: (argv, offset) => {
          const words = argv.map((a) => a.toString());
          if (words[0]?.toUpperCase() !== 'PING') commands.push(words);
          offsets.push(offset);
          return true;
        },
        onError: (err) => (failure = err),
      });
      try {
        await c.set('a', '1');
        await c.select(3);
        await c.rpush('l', 'x', 'y');
        await c.del('l');
        await waitFor(() => commands.length >= 5);
        assert.deepEqual(commands, [
          ['SELECT', '0'],
          ['set', 'a', '1'],
          ['SELECT', '3'],
          ['rpush', 'l', 'x', 'y'],
          ['del', 'l'],
        ]);
        assert.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!));
        // WAIT counts replicas that are online (a diskless master puts us online on our first ACK) and whose
        // ACK offset covers every write: our offset accounting must match the master's.
        assert.equal(await c.wait(1, 5000), 1);
        const info = await c.info('replication');
        const masterOffset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
        await waitFor(() => link.replicationOffset === masterOffset);
        assert.equal(failure, null);
      } finally {
        link.close();
        c.disconnect();
      }
    });
  });
}
