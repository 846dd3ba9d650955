/**
 * shake sync under faults, each ending equal to the source (DEBUG DIGEST, same version) with the source's
 * sync_full / sync_partial_ok counters asserted:
 * - kill -9 of the CLI while the snapshot is loaded: the next run loads a new snapshot into a flushed target;
 * - the target's connections reset twice (CLIENT KILL TYPE normal) under MULTI/EXEC of INCRs: no INCR twice or lost;
 * - the source restarted from its RDB and from its AOF;
 * - a replica of the source promoted: shake pointed at it continues with PSYNC (psync2);
 * - a master that sends garbage, a truncated snapshot, or garbage in the stream (a fake master on a loopback
 *   socket: a real server cannot be made to): one clear line, exit non-zero, the checkpoint intact, no hang;
 * - a target answering OOM (maxmemory 1mb, noeviction) or READONLY: one clear line, exit non-zero, the
 *   checkpoint intact; the same command line after the fix continues with PSYNC.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { runCli, spawnCli } from '../cli/helpers/run-cli.js';
import { freePort, startRedis } from '../harness/redis-server.js';
import { serverPair } from '../harness/server-pair.js';
import {
  assertNoFailures,
  assertSameDigest,
  incrTraffic,
  masterOffset,
  nameOf,
  pairCheckpoint,
  sleep,
  startSync,
  stateDir,
  stopWhenApplied,
  syncPair,
  syncStats,
  waitCheckpoint,
  waitStreaming,
} from './helpers.js';
import { runWorkload } from './workload.js';

const DEBUG = { 'enable-debug-command': 'yes' };

/** In-process runs and traffic of the current test, stopped after it whatever happened (a failed assertion too). */
const running: { stop(): Promise<unknown> }[] = [];
function track<T extends { stop(): Promise<unknown> }>(r: T): T {
  running.push(r);
  return r;
}
function stopAfterEach(): void {
  afterEach(async () => {
    for (const r of running.splice(0)) await r.stop().catch(() => {});
  });
}

/** The snapshot receiver's temporary file (RdbFileOutput: `.snapshot.rdb.<pid>.<random>.tmp`). */
function isPartial(file: string): boolean {
  return file.startsWith('.snapshot.rdb.') && file.endsWith('.tmp');
}

async function digestsEqual(a: Redis, b: Redis, checkpointKey: string): Promise<void> {
  await b.del(checkpointKey);
  assert.equal(await b.call('DEBUG', 'DIGEST'), await a.call('DEBUG', 'DIGEST'));
}

describe('sync faults: shake killed during the snapshot, target connections reset', () => {
  stopAfterEach();
  const p = serverPair({ config: { ...DEBUG, 'repl-backlog-size': '64mb' } }, { config: DEBUG });

  test('kill -9 while the snapshot is loaded as it arrives: the next run rebuilds the target (no key left over)', async () => {
    const { source, target, src, dst } = p;
    const name = nameOf(source);
    await src.call('DEBUG', 'POPULATE', '400000', 'key', '64');
    // The master sleeps 1 us about every 10th key while it writes the snapshot (rdb.c debugDelay): a transfer of
    // seconds, so the kill below lands while the snapshot is still arriving and already being loaded.
    await src.config('SET', 'rdb-key-save-delay', '-10');
    const cwd = stateDir();
    const args = ['sync', '--source', source.url, '--target', target.url];
    const before = await syncStats(src);
    const first = spawnCli(args, { cwd });
    track({ stop: async () => first.child.kill('SIGKILL') });
    // Kill it once the target holds the loading mark and part of the snapshot, the snapshot file still incomplete
    // (the receiver's temporary file: it is renamed once the transfer is complete and checked).
    const receiving = (): boolean => readdirSync(join(cwd, '.shake-sync', name.replace(':', '_'))).some(isPartial);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const mark = await dst.get(`__shake:sync:${name}`);
      if (mark?.startsWith('loading') && (await dst.dbsize()) > 5000 && receiving()) break;
      assert.ok(Date.now() < deadline, `never saw the snapshot loaded while it arrives: ${first.stderr()}`);
      await sleep(10);
    }
    first.child.kill('SIGKILL');
    await first.exit;
    await src.config('SET', 'rdb-key-save-delay', '0');
    const partial = await dst.dbsize();
    assert.ok(partial < 400_001, `killed after ${partial} keys`);
    // Keys the first run may have loaded go away on the source; new ones arrive.
    const pl = src.pipeline();
    for (let i = 0; i < 400_000; i += 7) pl.del(`key:${i}`);
    for (let i = 0; i < 1000; i++) pl.set(`new:${i}`, `v${i}`);
    await pl.exec();
    const second = await runCli([...args, '--until-caught-up'], { cwd, timeoutMs: 120_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /full syncs 1, partial 0/);
    const after = await syncStats(src);
    assert.equal(after.full, before.full + 2, 'the killed run and the new one');
    assert.equal(after.partialOk, before.partialOk);
    assert.match((await dst.get(`__shake:sync:${name}`)) ?? '', /^\w+ \d+ \d+$/, 'a checkpoint');
    await assertSameDigest(p);
    await src.flushall();
    await dst.flushall();
  });

  test('the target resets its connections twice under MULTI/EXEC of INCRs: none applied twice, none lost', async () => {
    const { src, dst } = p;
    await src.call('DEBUG', 'POPULATE', '2000', 'k', '32');
    const before = await syncStats(src);
    const run = track(syncPair(p));
    await waitStreaming(run.progress);
    const load = track(incrTraffic(src));
    try {
      for (let i = 0; i < 2; i++) {
        await sleep(1000); // transactions in flight
        const killed = await dst.call('CLIENT', 'KILL', 'TYPE', 'normal');
        assert.ok(Number(killed) >= 1, `${String(killed)} connections killed`);
        await sleep(1000);
      }
    } finally {
      await load.stop();
    }
    const link = (await run.finish(60_000)).links[0]!;
    assertNoFailures(link);
    assert.equal(link.reconnects, 2);
    const after = await syncStats(src);
    assert.equal(after.full, before.full + 1);
    assert.equal(after.partialOk, before.partialOk + 2, 'each reconnect resumed with PSYNC');
    assert.equal(await dst.get('tx:n'), await src.get('tx:n'));
    await assertSameDigest(p);
  });
});

describe('sync faults: source restart', () => {
  stopAfterEach();
  for (const persistence of ['rdb', 'aof'] as const) {
    test(`the source restarts from its ${persistence.toUpperCase()}: the target ends equal`, async () => {
      const config =
        persistence === 'rdb'
          ? { ...DEBUG, save: '3600 1', 'repl-backlog-size': '16mb' }
          : { ...DEBUG, appendonly: 'yes', 'repl-backlog-size': '16mb' };
      const [source, target] = await Promise.all([startRedis({ config }), startRedis({ config: DEBUG })]);
      const src = source.client();
      const dst = target.client();
      try {
        const dir = stateDir();
        await runWorkload(src, { seed: 91, ops: 800 });
        const run = track(startSync(source, target, { stateDir: dir, reconnects: 20 }));
        await waitStreaming(run.progress);
        await runWorkload(src, { seed: 92, ops: 800 });
        await sleep(300);
        src.disconnect();
        await source.restart();
        const src2 = source.client();
        try {
          await runWorkload(src2, { seed: 93, ops: 800 });
          await sleep(400);
          const link = (await stopWhenApplied(run, src2, pairCheckpointOf(dst, nameOf(source)), 60_000)).links[0]!;
          assertNoFailures(link);
          assert.ok(link.reconnects >= 1);
          // The restarted process counts from zero: one resync of shake, partial when the master kept its
          // replication id and offset (RDB), full when it did not (AOF).
          const stats = await syncStats(src2);
          assert.deepEqual(
            { full: stats.full, partialOk: stats.partialOk },
            persistence === 'rdb' ? { full: 0, partialOk: 1 } : { full: 1, partialOk: 0 },
            `link: full ${link.fullSyncs}, partial ${link.partialSyncs}`,
          );
          await digestsEqual(src2, dst, `__shake:sync:${nameOf(source)}`);
        } finally {
          src2.disconnect();
        }
      } finally {
        dst.disconnect();
        await Promise.all([source.stop(), target.stop()]);
      }
    });
  }
});

function pairCheckpointOf(dst: Redis, name: string): () => Promise<number> {
  return async () => {
    const v = await dst.get(`__shake:sync:${name}`);
    const m = v ? /^\S+ (\d+) \d+$/.exec(v) : null;
    return m ? Number(m[1]) : -1;
  };
}

describe('sync faults: replica promotion', () => {
  stopAfterEach();
  test('a replica of the source promoted: shake pointed at it continues with PSYNC (psync2), no snapshot', async () => {
    const [master, replica, target] = await Promise.all([
      startRedis({ config: { ...DEBUG, 'repl-backlog-size': '16mb' } }),
      startRedis({ config: { ...DEBUG, 'repl-backlog-size': '16mb' } }),
      startRedis({ config: DEBUG }),
    ]);
    const m = master.client();
    const r = replica.client();
    const dst = target.client();
    try {
      await r.call('REPLICAOF', master.host, String(master.port));
      await runWorkload(m, { seed: 101, ops: 800 });
      const dir = stateDir();
      const first = track(startSync(master, target, { stateDir: dir, name: 'app' }));
      await waitStreaming(first.progress);
      await runWorkload(m, { seed: 102, ops: 800 });
      await sleep(300);
      await stopWhenApplied(first, m, pairCheckpointOf(dst, 'app'));
      // Writes shake has not seen, then the failover: the replica holds them, the master goes away.
      await runWorkload(m, { seed: 103, ops: 500 });
      await sleep(300);
      const want = await masterOffset(m);
      const deadline = Date.now() + 20_000;
      while (Number(/slave_repl_offset:(\d+)/.exec(await r.info('replication'))?.[1]) < want) {
        assert.ok(Date.now() < deadline, 'the replica never caught up');
        await sleep(50);
      }
      m.disconnect();
      await master.stop();
      await r.call('REPLICAOF', 'NO', 'ONE');
      const before = await syncStats(r);
      const second = track(startSync(replica, target, { stateDir: dir, name: 'app' }));
      await runWorkload(r, { seed: 104, ops: 500 });
      await sleep(400);
      const link = (await stopWhenApplied(second, r, pairCheckpointOf(dst, 'app'))).links[0]!;
      assertNoFailures(link);
      assert.equal(link.fullSyncs, 0);
      assert.equal(link.partialSyncs, 1);
      const after = await syncStats(r);
      assert.deepEqual(
        { full: after.full, partialOk: after.partialOk },
        { full: before.full, partialOk: before.partialOk + 1 },
      );
      await digestsEqual(r, dst, '__shake:sync:app');
    } finally {
      r.disconnect();
      dst.disconnect();
      await Promise.all([master.stop(), replica.stop(), target.stop()]);
    }
  });
});

/** A fake master on a loopback port: answers the handshake, then sends `psync` for PSYNC. */
async function fakeMaster(psync: (socket: Socket) => void, replication = ''): Promise<{ server: Server; url: string }> {
  const port = await freePort();
  const server = createServer((socket) => {
    let buf = '';
    let streaming = false;
    socket.on('error', () => {});
    socket.on('data', (d) => {
      // After PSYNC the replica only sends REPLCONF ACK, which a master does not answer.
      if (streaming) return;
      buf += d.toString('latin1');
      for (;;) {
        const cmd = takeCommand(buf);
        if (!cmd) return;
        buf = buf.slice(cmd.used);
        const name = (cmd.argv[0] ?? '').toUpperCase();
        if (name === 'PSYNC' || name === 'SYNC') {
          streaming = true;
          psync(socket);
          return;
        }
        if (name === 'PING') socket.write('+PONG\r\n');
        else if (name === 'INFO') {
          const text = `# Server\r\nredis_version:7.0.15\r\n# Cluster\r\ncluster_enabled:0\r\n${replication}`;
          socket.write(`$${text.length}\r\n${text}\r\n`);
        } else socket.write('+OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, url: `redis://127.0.0.1:${port}` };
}

/** One RESP array of bulk strings from the front of `buf`, or null when incomplete. */
function takeCommand(buf: string): { argv: string[]; used: number } | null {
  const m = /^\*(\d+)\r\n/.exec(buf);
  if (!m) return null;
  let pos = m[0].length;
  const argv: string[] = [];
  for (let i = 0; i < Number(m[1]); i++) {
    const b = /^\$(\d+)\r\n/.exec(buf.slice(pos));
    if (!b) return null;
    const start = pos + b[0].length;
    const end = start + Number(b[1]);
    if (buf.length < end + 2) return null;
    argv.push(buf.slice(start, end));
    pos = end + 2;
  }
  return { argv, used: pos };
}

describe('sync faults: a master that sends garbage', () => {
  const p = serverPair({}, {});
  const REPLID = 'f'.repeat(40);
  const CHECKPOINT = `${REPLID} 5000 0`;

  const cases: [string, (s: Socket) => void, RegExp][] = [
    [
      'garbage instead of a snapshot',
      (s) => s.write(`+FULLRESYNC ${'e'.repeat(40)} 9000\r\n$64\r\n${'\u0001garbage'.repeat(8)}`),
      /RDB|snapshot|checksum|magic/i,
    ],
    [
      'a truncated snapshot (the link closes)',
      (s) => {
        s.write(`+FULLRESYNC ${'e'.repeat(40)} 9000\r\n$100000\r\nREDIS0009\u00fa\u0009redis-ver`);
        setTimeout(() => s.destroy(), 50);
      },
      /closed|connection/i,
    ],
    [
      'garbage in the command stream',
      (s) => s.write(`+CONTINUE ${REPLID}\r\n*2\r\n$3\r\nSET\r\n:x\r\n\u0000\u0001@@garbage\r\n`),
      /bad bytes|non-command|unexpected/i,
    ],
  ];
  for (const [what, psync, message] of cases) {
    test(`${what}: one clear line, exit non-zero, the checkpoint and the target intact`, async () => {
      const { dst, target } = p;
      const fake = await fakeMaster(psync);
      try {
        await dst.flushall();
        await dst.set('__shake:sync:fake', CHECKPOINT);
        await dst.set('user:key', 'kept');
        const cwd = stateDir();
        writeFileSync(join(cwd, 'shake.conf'), '[sync]\nreconnects = 1\ntimeout_ms = 5000\n');
        const started = Date.now();
        const r = await runCli(['sync', '--source', fake.url, '--target', target.url, '--name', 'fake'], {
          cwd,
          timeoutMs: 60_000,
        });
        assert.ok(r.code !== null && r.code !== 0, `exit ${r.code}: ${r.stderr}`);
        assert.ok(Date.now() - started < 45_000, 'no hang');
        const lines = r.stderr.trim().split('\n');
        assert.match(lines[lines.length - 1] ?? '', message, r.stderr);
        assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack');
        assert.equal(await dst.get('__shake:sync:fake'), CHECKPOINT);
        assert.equal(await dst.get('user:key'), 'kept');
      } finally {
        await new Promise((r) => fake.server.close(r));
      }
    });
  }
});

describe('sync faults: a snapshot that fails at its end, after keys were loaded', () => {
  // A real server's RDB served by a fake master: most of it at once (loaded while the rest is awaited), then its
  // last bytes after a pause, corrupted or missing. The next start gets it whole and must rebuild the target
  // exactly: its DEBUG DIGEST equals the real server's.
  const p = serverPair({ config: DEBUG }, { config: DEBUG });
  const REPLID = 'a'.repeat(40);
  const OFFSET = 7000;
  const cases: [string, (rdb: Buffer, s: Socket) => void, RegExp][] = [
    [
      'a checksum that does not match',
      (rdb, s) => {
        const bad = Buffer.from(rdb);
        bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
        s.write(bad.subarray(0, bad.length - 20));
        setTimeout(() => s.write(bad.subarray(bad.length - 20)), 1500);
      },
      /CRC64 does not match/,
    ],
    [
      'a transfer that breaks 20 bytes before the end',
      (rdb, s) => {
        s.write(rdb.subarray(0, rdb.length - 20));
        setTimeout(() => s.destroy(), 1500);
      },
      /closed the connection after \d+ of \d+ bytes of the snapshot/,
    ],
  ];
  for (const [what, fault, message] of cases) {
    test(`${what}: one clear line, exit non-zero, the loading mark left; the next start rebuilds the target`, async () => {
      const { src, dst, target } = p;
      await src.flushall();
      await dst.flushall();
      await src.call('DEBUG', 'POPULATE', '50000', 'key', '64');
      await src.hset('h', 'f', 'v');
      await src.call('SAVE');
      const [, dir] = (await src.config('GET', 'dir')) as [string, string];
      const rdb = readFileSync(join(dir, 'dump.rdb'));
      let psyncs = 0;
      const fake = await fakeMaster((s) => {
        s.write(`+FULLRESYNC ${REPLID} ${OFFSET}\r\n$${rdb.length}\r\n`);
        if (++psyncs === 1) fault(rdb, s);
        else s.write(rdb);
      }, `# Replication\r\nrole:master\r\nmaster_repl_offset:${OFFSET}\r\n`);
      try {
        const cwd = stateDir();
        writeFileSync(join(cwd, 'shake.conf'), '[sync]\nreconnects = 0\ntimeout_ms = 5000\n');
        const args = ['sync', '--source', fake.url, '--target', target.url, '--name', 'fake'];
        const first = await runCli(args, { cwd, timeoutMs: 60_000 });
        assert.ok(first.code !== null && first.code !== 0, `exit ${first.code}: ${first.stderr}`);
        const lines = first.stderr.trim().split('\n');
        assert.match(lines[lines.length - 1] ?? '', message, first.stderr);
        assert.doesNotMatch(first.stderr, /^\s+at /m, 'no stack');
        assert.match((await dst.get('__shake:sync:fake')) ?? '', /^loading /);
        const loaded = await dst.dbsize();
        assert.ok(loaded > 1000, `keys were loaded before the end of the snapshot (${loaded})`);
        // Keys only the target has: the next start must not leave them.
        await dst.set('stale:key', 'x');
        const second = await runCli([...args, '--until-caught-up'], { cwd, timeoutMs: 60_000 });
        assert.equal(second.code, 0, second.stderr);
        assert.equal(psyncs, 2);
        assert.equal(await dst.get('__shake:sync:fake'), `${REPLID} ${OFFSET} 0`);
        await dst.del('__shake:sync:fake');
        assert.equal(await dst.call('DEBUG', 'DIGEST'), await src.call('DEBUG', 'DIGEST'));
      } finally {
        await new Promise((r) => fake.server.close(r));
      }
    });
  }
});

describe('sync faults: a target that refuses writes', () => {
  stopAfterEach();
  const p = serverPair({ config: { ...DEBUG, 'repl-backlog-size': '16mb' } }, { config: DEBUG });
  const refusals: [string, (dst: Redis) => Promise<void>, (dst: Redis) => Promise<void>, RegExp][] = [
    [
      'OOM (maxmemory 1mb, noeviction)',
      async (dst) => {
        await dst.config('SET', 'maxmemory-policy', 'noeviction');
        await dst.config('SET', 'maxmemory', '1mb');
      },
      async (dst) => {
        await dst.config('SET', 'maxmemory', '0');
      },
      /OOM/,
    ],
    [
      'READONLY (it became a replica)',
      async (dst) => {
        await dst.call('REPLICAOF', '127.0.0.1', String(await freePort()));
      },
      async (dst) => {
        await dst.call('REPLICAOF', 'NO', 'ONE');
      },
      /READONLY/,
    ],
  ];
  for (const [what, refuse, fix, message] of refusals) {
    test(`${what}: one clear line, exit non-zero, the checkpoint intact; after the fix the run continues`, async () => {
      const { source, target, src, dst } = p;
      await src.flushall();
      await dst.flushall();
      await src.call('DEBUG', 'POPULATE', '3000', 'k', '400');
      const cwd = stateDir();
      const args = ['sync', '--source', source.url, '--target', target.url];
      const first = spawnCli(args, { cwd });
      track({ stop: async () => first.child.kill('SIGKILL') });
      await waitCheckpoint(pairCheckpoint(p), 1, first.stderr);
      await runWorkload(src, { seed: 111, ops: 300 });
      await waitCheckpoint(pairCheckpoint(p), await masterOffset(src), first.stderr);
      const held = await dst.get(`__shake:sync:${nameOf(source)}`);
      await refuse(dst);
      await runWorkload(src, { seed: 112, ops: 300 });
      const code = await Promise.race([first.exit, sleep(30_000).then(() => 'hang')]);
      if (code === 'hang') first.child.kill('SIGKILL');
      assert.ok(code !== 'hang' && code !== 0, `exit ${String(code)}: ${first.stderr()}`);
      const lines = first.stderr().trim().split('\n');
      assert.match(lines[lines.length - 1] ?? '', message, first.stderr());
      assert.match(first.stderr(), /checkpoint stays at offset/);
      assert.doesNotMatch(first.stderr(), /^\s+at /m, 'no stack');
      assert.equal(await dst.get(`__shake:sync:${nameOf(source)}`), held, 'the checkpoint is intact');
      await fix(dst);
      const before = await syncStats(src);
      const second = await runCli([...args, '--until-caught-up'], { cwd, timeoutMs: 60_000 });
      assert.equal(second.code, 0, second.stderr);
      const after = await syncStats(src);
      assert.deepEqual(
        { full: after.full, partialOk: after.partialOk },
        { full: before.full, partialOk: before.partialOk + 1 },
      );
      await assertSameDigest(p);
    });
  }
});
