/**
 * Live: a real redis-server 7.0 filled with every encoding it saves (quicklist PACKED/PLAIN and
 * LZF-compressed nodes, intsets 16/32/64, listpack and hashtable hashes/zsets, streams with groups,
 * PEL and consumers, TTLs, several dbs, a function), then SAVEd. Our parse of dump.rdb must equal
 * what the server returns, and each value's bytes must equal the server's own DUMP of that key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RdbParser, parseDumpPayload, type RdbEvent } from '@shake/rdb';
import { startRedis } from '../../harness/redis-server.js';
import { readKeyspace } from '../../helpers/keyspace.js';
import { RecordBuilder } from '../../helpers/events-to-records.js';
import { assertRecordsMatch } from '../../helpers/compare-records.js';
import { fillDataset } from './live-dataset.js';

/** Walk a quicklist-2 value body: count PLAIN nodes and LZF-compressed PACKED nodes. */
function quicklistNodeKinds(raw: Buffer): { plain: number; lzf: number; nodes: number } {
  let p = 0;
  const len = (): number => {
    const b = raw[p++]!;
    if (b >> 6 === 0) return b & 63;
    if (b >> 6 === 1) return ((b & 63) << 8) | raw[p++]!;
    if (b === 0x80) {
      const v = raw.readUInt32BE(p);
      p += 4;
      return v;
    }
    throw new Error(`unexpected length byte ${b} at ${p - 1} of ${raw.subarray(0, 40).toString('hex')}`);
  };
  const nodes = len();
  let plain = 0;
  let lzf = 0;
  for (let i = 0; i < nodes; i++) {
    if (len() === 1) plain++;
    if (raw[p] === 0xc3) {
      lzf++;
      p++;
      const clen = len();
      len();
      p += clen;
    } else {
      const n = len();
      p += n;
    }
  }
  return { plain, lzf, nodes };
}

test('live redis 7.0: parsed dump.rdb equals the server, value bytes equal DUMP', { timeout: 120_000 }, async () => {
  const server = await startRedis({ config: { 'list-compress-depth': '1', 'enable-debug-command': 'yes' } });
  const c = server.client();
  try {
    await fillDataset(c);
    assert.equal(await c.call('SAVE'), 'OK');
    const data = readFileSync(join(server.dir, 'dump.rdb'));

    const parser = new RdbParser({ captureRawLimit: 64 << 20, batchSize: 100 });
    const events: RdbEvent[] = [];
    for (let i = 0; i < data.length; i += 65536) events.push(...parser.push(data.subarray(i, i + 65536)));
    events.push(...parser.end());
    const summary = new RecordBuilder().add(events).finish();
    assert.equal(summary.header?.version, 10);
    assert.equal(summary.functions.length, 1);

    const fromServer = await readKeyspace({ host: server.host, port: server.port });
    assert.ok(fromServer.length >= 40, `server has ${fromServer.length} keys`);
    assertRecordsMatch(summary.records, fromServer);

    // Coverage: the file really holds what the test means to exercise.
    const ends = events.filter((e): e is Extract<RdbEvent, { kind: 'key-end' }> => e.kind === 'key-end');
    const types = new Set(ends.map((e) => e.header.rdbType));
    for (const t of [0, 2, 5, 11, 16, 17, 18, 19]) assert.ok(types.has(t), `RDB type ${t} present`);
    const encodings = new Set(ends.map((e) => e.header.encoding));
    for (const enc of ['raw', 'int', 'lzf']) assert.ok(encodings.has(enc), `string encoding ${enc}`);
    const byName = (name: string): Extract<RdbEvent, { kind: 'key-end' }> =>
      ends.find((e) => e.header.db === 0 && e.header.key.toString('latin1') === name)!;
    assert.ok(quicklistNodeKinds(byName('list:plain').raw!).plain >= 2, 'PLAIN quicklist nodes');
    const big = quicklistNodeKinds(byName('list:big').raw!);
    assert.ok(big.nodes > 3 && big.lzf >= 1, `LZF-compressed quicklist nodes (${JSON.stringify(big)})`);

    // Every value's captured bytes are exactly the server's DUMP payload body, which parses back too.
    for (const e of ends) {
      await c.call('SELECT', e.header.db);
      const payload = (await c.callBuffer('DUMP', e.header.key)) as Buffer;
      assert.equal(payload[0], e.header.rdbType, 'payload type byte');
      assert.ok(e.raw, 'raw captured');
      assert.ok(
        payload.subarray(1, payload.length - 10).equals(e.raw),
        `raw bytes of ${e.header.key.toString('latin1')}`,
      );
      const parsed = parseDumpPayload(payload);
      assert.equal(parsed.rdbVersion, 10);
      const one = new RecordBuilder().add(parsed.events).finish().records[0]!;
      const mine = summary.records.find((r) => r.db === e.header.db && r.key_b64 === e.header.key.toString('base64'))!;
      assert.equal(one.db, -1);
      assertRecordsMatch([{ ...one, db: mine.db, key_b64: mine.key_b64, expire_at_ms: mine.expire_at_ms }], [mine]);
    }
    await c.call('SELECT', 0);
  } finally {
    c.disconnect();
    await server.stop();
  }
});
