/**
 * `restore --load replication`: real targets load the RDB themselves as replicas of shake. Every fixture a 7.0
 * server can load reads back equal to its expected.jsonl; what must not reach a target (a corrupt, truncated or
 * AOF-tailed file, a newer RDB, a db it lacks, a target holding data) leaves it alive, empty, a master, with its
 * config as it was; `--load auto` then writes by commands. Older servers (2.8 speaks the handshake inline and
 * has no repl-diskless-load), a target without CONFIG (loads through its disk) and one without REPLICAOF
 * (ElastiCache) too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplicationLoadUnavailable } from '../../src/sinks/redis/replication-load.js';
import { openTarget } from '../../src/sinks/redis/open-target.js';
import { restore, type LoadMode, type RestoreRun } from '../../src/pipelines/restore.js';
import { tlsSupport } from '../harness/tls-support.js';
import { sharedTestCA } from '../harness/tls.js';
import { readReplicaCommands } from '../../src/replica/rdb-master.js';
import { emptyServer, freePort, startRedis, type RedisServer } from '../harness/redis-server.js';
import { serverBinary } from '../harness/servers.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { fixturesDir, loadExpected, repoRoot } from '../helpers/load-records.js';
import { aliveAt } from '../helpers/records.js';
import { alignFor70, restoreInto } from './helpers.js';

/** The server's own clock (ms): it, not ours, decides which loaded keys have expired. */
async function serverNow(server: RedisServer): Promise<number> {
  const c = server.client();
  try {
    const [s, us] = await c.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  } finally {
    c.disconnect();
  }
}

/** role, the keys held, and repl-diskless-load (null where CONFIG is refused). */
async function stateOf(
  server: RedisServer,
  password?: string,
): Promise<{ role: string; keys: number; disklessLoad: string | null; alive: boolean }> {
  const c = server.client(password ? { password } : undefined);
  try {
    const role = /role:(\w+)/.exec(await c.info('replication'))?.[1] ?? '?';
    // Every db (INFO keyspace), not DBSIZE's one.
    const keys = [...(await c.info('keyspace')).matchAll(/keys=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    const cfg = (await c.config('GET', 'repl-diskless-load').catch(() => null)) as string[] | null;
    return { role, keys, disklessLoad: cfg?.[1] ?? null, alive: (await c.ping()) === 'PONG' };
  } finally {
    c.disconnect();
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'shake-load-repl-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of `file` with `edit` applied. */
function edited(file: string, name: string, edit: (b: Buffer) => Buffer): string {
  const out = join(tmp, name);
  writeFileSync(out, edit(readFileSync(file)));
  return out;
}

describe('restore --load replication into redis 7.0', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });

  // The fixtures whose RDB version 7.0 (RDB 10) loads.
  for (const label of ['redis-2.8', 'redis-3.2', 'redis-4.0', 'redis-5.0', 'redis-6.0', 'redis-6.2', 'redis-7.0']) {
    it(`${label}: loaded by the target, read back as the fixture`, async () => {
      const fx = loadExpected(label);
      await emptyServer(server);
      const run = await restoreInto(server, { input: fx.rdbFile as string, load: 'replication' });
      const rl = run.replicationLoad;
      assert.ok(rl, 'loaded by replication');
      assert.equal(rl.diskless, true, 'from the socket (CONFIG SET repl-diskless-load swapdb)');
      assert.equal(rl.keys, fx.total);
      const now = await serverNow(server);
      const alive = aliveAt(fx.records, now);
      assert.equal(run.counters.keysRead, fx.total);
      assert.equal(run.counters.keysWritten, alive.length);
      assert.equal(run.counters.skipped.get('expired') ?? 0, fx.total - alive.length);
      const aligned = alignFor70(alive, await readKeyspace({ host: server.host, port: server.port }));
      assertRecordsMatch(aligned.actual, aligned.expected);
      assert.deepEqual(await stateOf(server), {
        role: 'master',
        keys: alive.length,
        disklessLoad: 'disabled',
        alive: true,
      });
    });
  }

  it('a 7.2 RDB (version 11): refused before anything changes; --load auto writes it by commands', async () => {
    const fx = loadExpected('redis-7.2', { aliveAt: Date.now() });
    await emptyServer(server);
    await assert.rejects(
      restoreInto(server, { input: fx.rdbFile as string, load: 'replication' }),
      (e: Error) => e instanceof ReplicationLoadUnavailable && /RDB 11.*loads RDB 10 at most/.test(e.message),
    );
    assert.deepEqual(await stateOf(server), { role: 'master', keys: 0, disklessLoad: 'disabled', alive: true });
    const notices: string[] = [];
    const run = await restoreInto(server, {
      input: fx.rdbFile as string,
      load: 'auto',
      onNotice: (m) => notices.push(m),
    });
    assert.equal(run.replicationLoad ?? null, null);
    assert.match(notices.join('\n'), /--load auto: writing by commands: .*RDB 11/);
    assert.equal(run.counters.keysWritten, fx.records.length);
    assert.equal((await stateOf(server)).keys, fx.records.length);
  });

  it('a target holding a key is refused and kept; with --flush-target it is emptied first and loaded', async () => {
    const fx = loadExpected('redis-7.0');
    await emptyServer(server);
    const c = server.client();
    try {
      await c.set('keep-me', '1');
      await assert.rejects(
        restoreInto(server, { input: fx.rdbFile as string, load: 'replication' }),
        /holds 1 key\(s\); a load by replication replaces all its data/,
      );
      assert.equal(await c.get('keep-me'), '1');
      const run = await restoreInto(server, { input: fx.rdbFile as string, load: 'replication', flushTarget: true });
      assert.ok(run.replicationLoad);
      assert.equal(await c.exists('keep-me'), 0);
      // SCAN (readKeyspace) passes expired keys by: the target deletes them.
      const back = await readKeyspace({ host: server.host, port: server.port });
      assert.equal(back.length, aliveAt(fx.records, await serverNow(server)).length);
    } finally {
      c.disconnect();
    }
  });

  it('a corrupt RDB never reaches the target: one error with the byte offset; auto writes what precedes it', async () => {
    const src = loadExpected('redis-7.0').rdbFile as string;
    // A flipped byte in the middle: only the trailing CRC64 can tell, so all but the last bytes were sent.
    const bad = edited(src, 'flipped.rdb', (b) => {
      const c = Buffer.from(b);
      const at = Math.floor(c.length / 2);
      c[at] = (c[at] as number) ^ 0x20;
      return c;
    });
    await emptyServer(server);
    await assert.rejects(
      restoreInto(server, { input: bad, load: 'replication' }),
      (e: Error) => e instanceof ReplicationLoadUnavailable && /checksum mismatch.*nothing was loaded/i.test(e.message),
    );
    assert.deepEqual(await stateOf(server), { role: 'master', keys: 0, disklessLoad: 'disabled', alive: true });
    // auto: the commands path, which writes every key before the bad bytes and reports the error as always.
    await assert.rejects(restoreInto(server, { input: bad, load: 'auto' }), /checksum mismatch/i);
    assert.equal((await stateOf(server)).role, 'master');
  });

  it("files Redis's own loader would exit on are refused before their end: module keys, no checksum", async () => {
    const third = join(fixturesDir, 'third-party');
    const cases: [string, RegExp][] = [
      // A module type key (RDB 8): the target has no such module.
      ['rdbtools-dumps/redis_40_with_module.rdb', /key .* of db 0 is module data: the target may not have the module/],
      // Its ziplist fails 7.0's integrity check (redis-server exits on it); it has no CRC to tell.
      [
        'redis-tests-assets/corrupt_ziplist.rdb',
        /the file has no checksum .*: not trusted to a load; nothing was loaded/,
      ],
    ];
    for (const [file, message] of cases) {
      await emptyServer(server);
      await assert.rejects(restoreInto(server, { input: join(third, file), load: 'replication' }), message, file);
      assert.deepEqual(await stateOf(server), { role: 'master', keys: 0, disklessLoad: 'disabled', alive: true }, file);
    }
  });

  it('keys the target drops while it loads (empty collections, Redis 7.0) are counted: an error, not a silent loss', async () => {
    const file = join(fixturesDir, 'third-party', 'redis-tests-assets', 'corrupt_empty_keys.rdb');
    await emptyServer(server);
    await assert.rejects(
      restoreInto(server, { input: file, load: 'replication' }),
      /after loading, the target 127\.0\.0\.1:\d+ holds 0 key\(s\) in db 0; the file has 9/,
    );
    assert.deepEqual(await stateOf(server), { role: 'master', keys: 0, disklessLoad: 'disabled', alive: true });
  });

  it('a truncated RDB: refused at the end, the target alive, empty and a master', async () => {
    const src = loadExpected('redis-7.0').rdbFile as string;
    const cut = edited(src, 'cut.rdb', (b) => b.subarray(0, b.length - 100));
    await emptyServer(server);
    await assert.rejects(restoreInto(server, { input: cut, load: 'replication' }), /nothing was loaded/);
    assert.deepEqual(await stateOf(server), { role: 'master', keys: 0, disklessLoad: 'disabled', alive: true });
  });

  it('an AOF with an RDB preamble: stopped at the RDB end (the target drops it); auto replays it by commands', async () => {
    const aof = join(fixturesDir, 'aof', 'redis-6.2-preamble', 'appendonly.aof');
    await emptyServer(server);
    await assert.rejects(
      restoreInto(server, { input: aof, load: 'replication' }),
      /the RDB ends at byte \d+ of \d+ \(an AOF tail\?\)/,
    );
    assert.deepEqual(await stateOf(server), { role: 'master', keys: 0, disklessLoad: 'disabled', alive: true });
    const run = await restoreInto(server, { input: aof, load: 'auto' });
    assert.equal(run.replicationLoad ?? null, null);
    assert.equal(run.counters.bytesRead, statSync(aof).size, 'the file counted once (the attempt is not added)');
    assert.ok(run.counters.commandsWritten > 0, 'the AOF commands were replayed');
  });

  it('a key selection or db map needs commands: replication refuses, auto writes by commands', async () => {
    const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
    await emptyServer(server);
    await assert.rejects(
      restoreInto(server, { input: fx.rdbFile as string, load: 'replication', types: ['string'] }),
      /--load replication: a key selection/,
    );
    const run = await restoreInto(server, { input: fx.rdbFile as string, load: 'auto', types: ['string'] });
    assert.equal(run.replicationLoad ?? null, null);
    assert.equal(run.counters.keysWritten, fx.records.filter((r) => r.type === 'string').length);
  });
});

describe('restore --load replication: other targets', () => {
  it('CONFIG renamed away: the target loads through its disk', async () => {
    const server = await startRedis({ disableCommands: ['CONFIG'] });
    try {
      const fx = loadExpected('redis-7.0');
      const run = await restoreInto(server, { input: fx.rdbFile as string, load: 'replication' });
      assert.equal(run.replicationLoad?.diskless, false);
      const back = await readKeyspace({ host: server.host, port: server.port });
      assert.equal(back.length, aliveAt(fx.records, await serverNow(server)).length);
      assert.equal((await stateOf(server)).role, 'master');
    } finally {
      await server.stop();
    }
  });

  it('an ElastiCache-like target (no REPLICAOF, SLAVEOF): refused, auto writes by commands', async () => {
    const server = await startRedis({ elasticache: true });
    try {
      const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
      await assert.rejects(
        restoreInto(server, { input: fx.rdbFile as string, load: 'replication' }),
        (e: Error) => e instanceof ReplicationLoadUnavailable && /refused REPLICAOF/.test(e.message),
      );
      const run = await restoreInto(server, { input: fx.rdbFile as string, load: 'auto' });
      assert.equal(run.replicationLoad ?? null, null);
      assert.equal(run.counters.keysWritten, fx.records.length);
    } finally {
      await server.stop();
    }
  });

  it('an ACL user without REPLICAOF: refused (NOPERM), auto writes by commands; one with it loads', async () => {
    const server = await startRedis({
      users: [
        { name: 'writer', password: 'w', rules: '~* &* +@all -replicaof -slaveof' },
        { name: 'admin', password: 'a', rules: '~* &* +@all' },
      ],
      password: 'root',
    });
    try {
      const fx = loadExpected('redis-7.0', { aliveAt: Date.now() });
      const as = (username: string, password: string) => ({ ...server, username, password });
      await assert.rejects(
        restoreInto(as('writer', 'w'), { input: fx.rdbFile as string, load: 'replication' }),
        /refused REPLICAOF: .*user writer lacks a permission.*NOPERM/,
      );
      assert.deepEqual(await stateOf(server, 'root'), {
        role: 'master',
        keys: 0,
        disklessLoad: 'disabled',
        alive: true,
      });
      const auto = await restoreInto(as('writer', 'w'), { input: fx.rdbFile as string, load: 'auto' });
      assert.equal(auto.replicationLoad ?? null, null);
      assert.equal(auto.counters.keysWritten, fx.records.length);
      await emptyServer({ client: () => server.client({ password: 'root' }) });
      const run = await restoreInto(as('admin', 'a'), { input: fx.rdbFile as string, load: 'replication' });
      assert.ok(run.replicationLoad);
      assert.equal((await stateOf(server, 'root')).role, 'master');
    } finally {
      await server.stop();
    }
  });

  it('a TLS target: loads where tls-replication is no (its link to a master is plain TCP), refused where yes', async (t) => {
    const support = await tlsSupport();
    if (!support.supported) {
      t.skip(support.reason);
      return;
    }
    const ca = await sharedTestCA();
    const fx = loadExpected('redis-7.0');
    const viaTls = async (server: RedisServer, load: LoadMode): Promise<RestoreRun> => {
      const target = await openTarget({ connection: { host: server.host, port: server.port, tls: { ca: ca.ca } } });
      try {
        return await restore({ input: { path: fx.rdbFile as string }, target, load });
      } finally {
        await target.close();
      }
    };
    const plainLink = await startRedis({ tls: ca });
    try {
      const run = await viaTls(plainLink, 'replication');
      assert.equal(run.replicationLoad?.keys, fx.total);
    } finally {
      await plainLink.stop();
    }
    const tlsLink = await startRedis({ tls: ca, config: { 'tls-replication': 'yes' } });
    try {
      await assert.rejects(
        viaTls(tlsLink, 'replication'),
        /has tls-replication yes: the replication link shake serves/,
      );
      const auto = await viaTls(tlsLink, 'auto');
      assert.equal(auto.replicationLoad ?? null, null);
      assert.equal(auto.counters.failed, 0);
    } finally {
      await tlsLink.stop();
    }
  });

  it('listen at a given address and port: the target connects there', async () => {
    const server = await startRedis();
    try {
      const port = await freePort();
      const fx = loadExpected('redis-7.0');
      const run = await restoreInto(server, {
        input: fx.rdbFile as string,
        load: 'replication',
        listen: `127.0.0.1:${port}`,
      });
      assert.equal(run.replicationLoad?.listen, `127.0.0.1:${port}`);
    } finally {
      await server.stop();
    }
  });

  it('a db the target does not have is refused before it loads (databases 2, a key in db 5)', async () => {
    // An RDB with keys in db 0 and db 5, written by a real server.
    const writer = await startRedis({ config: { save: '' } });
    const rdb = join(tmp, 'db5.rdb');
    try {
      const c = writer.client();
      try {
        await c.set('a', '1');
        await c.select(5);
        await c.set('b', '2');
        await c.save();
      } finally {
        c.disconnect();
      }
      copyFileSync(join(writer.dir, 'dump.rdb'), rdb);
    } finally {
      await writer.stop();
    }
    const server = await startRedis({ config: { databases: '2' } });
    try {
      await assert.rejects(
        restoreInto(server, { input: rdb, load: 'replication' }),
        /db 5 of the file: the target .* refuses it/,
      );
      assert.deepEqual(await stateOf(server), { role: 'master', keys: 0, disklessLoad: 'disabled', alive: true });
    } finally {
      await server.stop();
    }
  });

  it('redis 2.8 (inline handshake, no repl-diskless-load): the 2.8 fixture loads through its disk', async () => {
    const server = await startRedis({ binary: serverBinary('redis-2.8'), before32: true });
    try {
      const fx = loadExpected('redis-2.8');
      const run = await restoreInto(server, { input: fx.rdbFile as string, load: 'replication' });
      assert.equal(run.replicationLoad?.diskless, false);
      const alive = aliveAt(fx.records, await serverNow(server));
      assert.equal(run.counters.keysWritten, alive.length);
      const c = server.client();
      try {
        assert.match(await c.info('replication'), /role:master/);
        const back = await readKeyspace({ host: server.host, port: server.port });
        assert.equal(back.length, alive.length);
      } finally {
        c.disconnect();
      }
    } finally {
      await server.stop();
    }
  });

  it('the CLI: --load replication says how the keys got there', async () => {
    const server = await startRedis();
    try {
      const fx = loadExpected('redis-7.0');
      const restoreCli = (...extra: string[]) =>
        spawnSync(
          process.execPath,
          [
            join(repoRoot, 'bin', 'run.js'),
            'restore',
            fx.rdbFile as string,
            '--target',
            server.url,
            '--load',
            'replication',
            ...extra,
          ],
          { encoding: 'utf8', env: { ...process.env, SHAKE_LOG_PROGRESS: 'never' } },
        );
      const r = restoreCli();
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`${fx.total} keys read`));
      assert.match(r.stderr, /loaded by the target itself as a replica of shake \(from the socket/);
      // Again into the now full target: refused in one line, exit 1, nothing touched; --json says how it loaded.
      const again = restoreCli();
      assert.equal(again.status, 1);
      assert.match(
        again.stderr,
        /^error: the target 127\.0\.0\.1:\d+ holds \d+ key\(s\); a load by replication replaces/m,
      );
      assert.doesNotMatch(again.stderr, /\n\s+at /, 'no stack trace');
      const json = restoreCli('--flush-target', '--json');
      assert.equal(json.status, 0, json.stderr);
      const summary = JSON.parse(json.stdout) as { load: { by: string; diskless: boolean } };
      assert.deepEqual([summary.load.by, summary.load.diskless], ['replication', true]);
    } finally {
      await server.stop();
    }
  });
});

describe('restore --load replication into real servers of each version: their own fixture, exactly', () => {
  // A load keeps what commands cannot carry to older targets: field TTLs (7.4+), consumers' active times (7.2+).
  // 4.0 has no repl-diskless-load (6.0+): it loads through its disk.
  for (const label of ['redis-4.0', 'redis-6.2', 'redis-7.2', 'redis-7.4', 'redis-8.0-m01', 'valkey-8.0'] as const) {
    it(`${label} loads ${label}.rdb`, async () => {
      const server = await startRedis({ binary: serverBinary(label) });
      try {
        const fx = loadExpected(label);
        const run = await restoreInto(server, { input: fx.rdbFile as string, load: 'replication' });
        assert.ok(run.replicationLoad, 'loaded by replication');
        assert.equal(run.replicationLoad.diskless, label !== 'redis-4.0');
        const alive = aliveAt(fx.records, await serverNow(server));
        assertRecordsMatch(await readKeyspace({ host: server.host, port: server.port }), alive);
        assert.equal((await stateOf(server)).role, 'master');
      } finally {
        await server.stop();
      }
    });
  }
});

describe('readReplicaCommands', () => {
  it('multibulk and inline commands and keepalive newlines, split at every byte', () => {
    const wire = Buffer.from(
      'PING\r\n' +
        'REPLCONF listening-port 6380\r\n' +
        '*3\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n' +
        '\n\n' +
        '*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n',
    );
    const want = [['PING'], ['REPLCONF', 'listening-port', '6380'], ['REPLCONF', 'capa', 'eof'], ['PSYNC', '?', '-1']];
    for (let cut = 0; cut <= wire.length; cut++) {
      const got: string[][] = [];
      let rest = readReplicaCommands(wire.subarray(0, cut), (a) => got.push(a));
      rest = readReplicaCommands(Buffer.concat([rest, wire.subarray(cut)]), (a) => got.push(a));
      assert.deepEqual(got, want, `cut at ${cut}`);
      assert.equal(rest.length, 0);
    }
  });
});
