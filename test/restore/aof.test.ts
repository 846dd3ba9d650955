/**
 * AOF inputs: the Redis 7.0 multi-part AOF (read through its manifest: base RDB + incr file with #TS:
 * annotations) and the Redis 6.2 single file with an RDB preamble, restored into a live 7.0 server and read
 * back equal to their expected.jsonl. Also the AOF command reader on its own: whole, byte by byte, split at
 * every boundary, annotations, truncation and bad bytes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AofCommandParser, AofError, type AofCommand } from '../../src/sources/aof-commands.js';
import { aofSource } from '../../src/sources/aof.js';
import { parseAofManifest, aofLoadOrder, resolveInput, splitArgs, InputError } from '../../src/sources/manifest.js';
import { RdbParser } from '@shake/rdb';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { fixturesDir, loadExpected } from '../helpers/load-records.js';
import { aliveAt, type KeyRecord, type StreamRecord } from '../helpers/records.js';
import { alignFor70, loadedByRedis, restoreInto } from './helpers.js';

const MULTIPART = join(fixturesDir, 'aof', 'redis-7.0-multipart');
const PREAMBLE = join(fixturesDir, 'aof', 'redis-6.2-preamble');

function parseAll(input: Buffer, splits: number[]): AofCommand[] {
  const p = new AofCommandParser('t');
  const out: AofCommand[] = [];
  let at = 0;
  for (const s of [...splits, input.length]) {
    p.push(input.subarray(at, s), out);
    at = s;
  }
  assert.equal(p.hasPartial, false);
  return out;
}

const show = (cmds: AofCommand[]): string[] => cmds.map((c) => c.argv.map((a) => a.toString('latin1')).join(' '));

describe('AOF command reader', () => {
  const incr = readFileSync(join(MULTIPART, 'appendonlydir', 'appendonly.aof.2.incr.aof'));

  it('reads the 7.0 incr file whole, skipping #TS annotations', () => {
    const cmds = parseAll(incr, []);
    const text = show(cmds);
    assert.equal(text[0], 'SELECT 0');
    assert.ok(text.includes('MULTI') && text.includes('EXEC'));
    assert.ok(!text.some((t) => t.startsWith('#')));
    assert.equal(cmds[1]?.offset, incr.indexOf('*3\r\n$3\r\nSET'));
  });

  it('gives the same commands byte by byte and split at every boundary', () => {
    const whole = show(parseAll(incr, []));
    const bytes = Array.from({ length: incr.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(show(parseAll(incr, bytes)), whole);
    for (let cut = 1; cut < incr.length; cut++) assert.deepEqual(show(parseAll(incr, [cut])), whole, `split at ${cut}`);
  });

  it('reports bad bytes with their offset, never anything but AofError', () => {
    assert.throws(
      () => parseAll(Buffer.from('*1\r\n$4\r\nPING\r\nX'), []),
      (e: unknown) => e instanceof AofError && e.offset === 14,
    );
    assert.throws(() => parseAll(Buffer.from('*1\r\n$4\r\nPINGxx'), []), AofError);
    assert.throws(() => parseAll(Buffer.from('*1\r\n?4\r\n'), []), AofError);
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 3000; i++) {
      const buf = Buffer.from(incr);
      for (let j = 0; j < 3; j++) buf[rnd(buf.length)] = rnd(256);
      const cut = rnd(buf.length + 1);
      const p = new AofCommandParser('fuzz');
      try {
        p.push(buf.subarray(0, cut), []);
        p.push(buf.subarray(cut), []);
      } catch (e) {
        assert.ok(e instanceof AofError, String(e));
      }
    }
  });
});

describe('AOF manifests', () => {
  it('parses the fixture manifest and orders base then incr', () => {
    const m = parseAofManifest(readFileSync(join(MULTIPART, 'appendonlydir', 'appendonly.aof.manifest'), 'utf8'));
    assert.deepEqual(
      aofLoadOrder(m).map((e) => [e.file, e.type]),
      [
        ['appendonly.aof.2.base.rdb', 'b'],
        ['appendonly.aof.2.incr.aof', 'i'],
      ],
    );
  });

  it('follows sdssplitargs quoting and refuses bad manifests', () => {
    assert.deepEqual(splitArgs('file "a b\\x41.aof" seq 1 type i'), ['file', 'a bA.aof', 'seq', '1', 'type', 'i']);
    assert.equal(splitArgs('file "unterminated'), null);
    const text = '# comment\nfile x.1.incr.aof seq 1 type i\nfile h.aof seq 1 type h\nfile x.2.incr.aof seq 2 type i\n';
    assert.deepEqual(
      aofLoadOrder(parseAofManifest(text)).map((e) => e.file),
      ['x.1.incr.aof', 'x.2.incr.aof'],
    );
    assert.throws(() => parseAofManifest('file a seq 2 type i\nfile b seq 1 type i\n'), InputError);
    assert.throws(() => parseAofManifest('file ../a seq 1 type b\n'), InputError);
    assert.throws(() => parseAofManifest('file a seq 1 type z\n'), InputError);
    assert.throws(() => parseAofManifest(''), InputError);
  });

  it('resolves the directory, the appendonlydir and the manifest file alike', () => {
    const viaParent = resolveInput(MULTIPART);
    const viaDir = resolveInput(join(MULTIPART, 'appendonlydir'));
    const viaFile = resolveInput(join(MULTIPART, 'appendonlydir', 'appendonly.aof.manifest'));
    assert.equal(viaParent.kind, 'aof-manifest');
    assert.deepEqual(viaParent.files, viaDir.files);
    assert.deepEqual(viaDir.files, viaFile.files);
    assert.equal(resolveInput(join(PREAMBLE, 'appendonly.aof')).kind, 'rdb');
  });
});

describe('AOF source', () => {
  it('hands out a preamble RDB then the tail; an unfinished MULTI at the end is dropped with a warning', async () => {
    const file = readFileSync(join(PREAMBLE, 'appendonly.aof'));
    const tail = Buffer.from('*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n');
    const warnings: string[] = [];
    const kinds: string[] = [];
    for await (const batch of aofSource(
      [
        {
          name: 'x',
          chunks: async function* () {
            for (let i = 0; i < file.length; i += 100) yield file.subarray(i, i + 100);
            yield tail;
          },
        },
      ],
      { createRdbParser: () => new RdbParser(), onWarning: (w) => warnings.push(w) },
    )) {
      for (const e of batch) kinds.push(e.kind);
    }
    assert.equal(kinds[0], 'header');
    assert.ok(kinds.indexOf('end') < kinds.indexOf('command'));
    assert.ok(!kinds.slice(kinds.indexOf('end') + 1).some((k) => k !== 'command'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] as string, /unfinished MULTI/);
  });
});

/** The files redis-server loads for `input`: a single appendonly.aof, or the multi-part appendonlydir. */
function aofFiles(input: string): { from: string; to: string }[] {
  if (input.endsWith('appendonly.aof')) return [{ from: input, to: 'appendonly.aof' }];
  const dir = join(MULTIPART, 'appendonlydir');
  return readdirSync(dir).map((f) => ({ from: join(dir, f), to: join('appendonlydir', f) }));
}

describe('restore AOF fixtures into redis 7.0', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });

  for (const [label, input, threshold] of [
    ['aof/redis-7.0-multipart', MULTIPART, undefined],
    ['aof/redis-7.0-multipart', join(MULTIPART, 'appendonlydir', 'appendonly.aof.manifest'), undefined],
    ['aof/redis-6.2-preamble', join(PREAMBLE, 'appendonly.aof'), undefined],
    // Every key of the RDB part over the capture limit: read again at the RDB's end, before the tail.
    ['aof/redis-6.2-preamble', join(PREAMBLE, 'appendonly.aof'), 1],
    ['aof/redis-7.0-multipart', MULTIPART, 1],
  ] as const) {
    it(`${label} (${input.slice(input.lastIndexOf('/') + 1)}${threshold ? ', every key big' : ''})`, async () => {
      const fx = loadExpected(label);
      const c = server.client();
      await c.flushall();
      c.disconnect();
      // The moment of the replay: shake and the references below are judged at it, whatever the date.
      const now = Date.now();
      const run = await restoreInto(server, { input, onError: 'skip', bigKeyThreshold: threshold, now: () => now });
      if (threshold) assert.ok(run.stats.rewritten > 5, 'keys went as commands');
      assert.deepEqual(run.counters.failures, []);
      assert.ok(run.counters.commandsWritten > 20);
      assert.equal(run.counters.commandsWritten, run.counters.commandsRead);
      // Every key the replay gave a deferred expiry and later found expired is counted as expired.
      assert.equal(run.counters.skipped.get('expired') ?? 0, run.loadingExpiry?.expiredKeys ?? 0);
      assert.equal(run.stats.splitTransactions, 0);
      const actual = await readKeyspace({ host: server.host, port: server.port });
      // 1. Exactly what redis-server 7.0 holds after loading the same AOF itself, at `now` (replayed XCLAIMs set
      //    the consumer's seen time to the time of loading, so those are compared within 2 s).
      const reloaded = aliveAt(await loadedByRedis(aofFiles(input)), now).map((r) =>
        r.type === 'stream' ? { ...r, times_approx: true } : r,
      );
      // Through commands, a group whose source (RDB 9) stored no entries_read stays unknown, where redis-server's
      // RDB loader estimates it: not compared then.
      const noEntriesRead = (recs: KeyRecord[]): KeyRecord[] =>
        !threshold
          ? recs
          : recs.map((r) => {
              if (r.type !== 'stream') return r;
              const v = r.value as StreamRecord;
              return { ...r, value: { ...v, groups: v.groups.map((g) => ({ ...g, entries_read: null })) } };
            });
      assertRecordsMatch(noEntriesRead(actual), noEntriesRead(reloaded));
      // 2. The fixture's expected.jsonl (read from the server that wrote the AOF), except what a reload
      //    does not reproduce either: a group's entries_read after XREADGROUP is replicated as
      //    XCLAIM ... LASTID (no ENTRIESREAD), so any reload reports it unknown (null).
      //    Consumer seen times are wall-clock times of the replay, not of the original run.
      const unseen = (recs: KeyRecord[], entriesRead: boolean): KeyRecord[] =>
        recs.map((r) => {
          if (r.type !== 'stream') return r;
          const v = r.value as StreamRecord;
          const groups = v.groups.map((g) => ({
            ...g,
            entries_read: entriesRead ? null : g.entries_read,
            consumers: g.consumers.map((cons) => ({ ...cons, seen_time_ms: 0 })),
          }));
          return { ...r, value: { ...v, groups } };
        });
      const aligned = alignFor70(unseen(aliveAt(fx.records, now), true), unseen(actual, false));
      assertRecordsMatch(aligned.actual, aligned.expected);
    });
  }
});
