/**
 * Re-encoding what real servers wrote:
 * - every key of the redis-7.0 fixture, loaded into a live 7.0, is DUMPed; the payload is parsed
 *   (parseDumpPayload), re-encoded by the writer for RDB 10 and RESTOREd under a new name: the server's
 *   own DEBUG DIGEST-VALUE of the copy equals the original's.
 * - targets the installed 7.0 server cannot load (RDB 11, 12 and Valkey 9's 80): fixtures are parsed,
 *   re-written, and the new file parsed again; its records must equal the fixture's expected.jsonl
 *   (read from the real servers), including hash field TTLs (type 24) for RDB 12.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import {
  RdbParser,
  RdbWriter,
  buildDumpPayloadBuffer,
  encodeValueEvents,
  parseDumpPayload,
  type KeyHeader,
  type RdbEvent,
  type ValueEvent,
} from '@shake/rdb';
import { startRedis, type RedisServer } from '../../harness/redis-server.js';
import { assertRecordsMatch } from '../../helpers/compare-records.js';
import { eventsToRecords } from '../../helpers/events-to-records.js';
import { loadExpected } from '../../helpers/load-records.js';
import type { KeyRecord, StreamRecord } from '../../helpers/records.js';

function parseAll(bytes: Buffer): RdbEvent[] {
  const p = new RdbParser({ batchSize: 64 });
  return [...p.push(bytes), ...p.end()];
}

function rewrite(bytes: Buffer, target: number): { out: Buffer; writer: RdbWriter } {
  const chunks: Buffer[] = [];
  const writer = new RdbWriter({ rdbVersion: target, output: (c) => chunks.push(c) });
  for (const ev of parseAll(bytes)) writer.write(ev);
  return { out: Buffer.concat(chunks), writer };
}

const withoutFieldTtls = (rs: KeyRecord[]): KeyRecord[] => rs.map(({ hash_field_expire_at_ms: _drop, ...r }) => r);

function withActiveTimes(r: KeyRecord): KeyRecord {
  if (r.type !== 'stream') return r;
  const v = r.value as StreamRecord;
  const groups = v.groups.map((g) => ({
    ...g,
    consumers: g.consumers.map((c) => ({ ...c, active_time_ms: c.active_time_ms ?? c.seen_time_ms })),
  }));
  return { ...r, value: { ...v, groups } };
}

describe('writer: re-encoding real servers output', () => {
  let server: RedisServer;
  let c: Redis;
  before(async () => {
    server = await startRedis({
      rdbFile: loadExpected('redis-7.0').rdbFile,
      config: { 'enable-debug-command': 'yes' },
    });
    c = server.client();
  });
  after(async () => {
    c.disconnect();
    await server.stop();
  });

  it('live DUMP payloads => parseDumpPayload => encoder (RDB 10) => RESTORE: same DEBUG DIGEST-VALUE', async () => {
    const fx = loadExpected('redis-7.0');
    let checked = 0;
    for (const r of fx.records) {
      await c.select(r.db);
      const key = Buffer.from(r.key_b64, 'base64');
      const payload = (await c.callBuffer('DUMP', key)) as Buffer;
      const parsed = parseDumpPayload(payload);
      const start = parsed.events.find((e) => e.kind === 'key-start') as Extract<RdbEvent, { kind: 'key-start' }>;
      const values = parsed.events.filter((e) => e.kind !== 'key-start' && e.kind !== 'key-end') as ValueEvent[];
      const header: KeyHeader = { ...start.header, key };
      const enc = encodeValueEvents(header, values, { targetRdbVersion: 10, length: start.length });
      const copy = Buffer.concat([Buffer.from('copy:'), key]);
      // The digest mixes in whether the key has a TTL: give the copy the same absolute expiry.
      const ttl = r.expire_at_ms ?? 0;
      const payloadCopy = buildDumpPayloadBuffer(enc.rdbType, enc.body, 10);
      await c.callBuffer('RESTORE', copy, ttl, payloadCopy, 'REPLACE', ...(ttl ? ['ABSTTL'] : []));
      const [a, b] = await Promise.all([
        c.callBuffer('DEBUG', 'DIGEST-VALUE', key),
        c.callBuffer('DEBUG', 'DIGEST-VALUE', copy),
      ]);
      assert.equal(String(b), String(a), `digest of ${r.type} ${JSON.stringify(key.toString('latin1'))}`);
      await c.del(copy);
      checked++;
    }
    assert.equal(checked, fx.records.length);
  });

  const cases: [string, number, boolean][] = [
    ['redis-7.4', 12, true],
    ['redis-8.0-m01', 12, true],
    ['redis-7.2', 11, false],
    ['redis-7.4', 11, false],
    ['valkey-8.0', 11, false],
    ['valkey-8.0', 80, false],
    ['redis-7.0', 80, false],
  ];
  for (const [label, target, keepsFieldTtls] of cases) {
    it(`${label} => RDB ${target} => parsed again equals expected.jsonl`, () => {
      const fx = loadExpected(label);
      const { out, writer } = rewrite(readFileSync(fx.rdbFile!), target);
      const again = parseAll(out);
      const header = again[0];
      assert.ok(header?.kind === 'header');
      assert.equal(header.version, target);
      assert.equal(header.magic, target >= 80 ? 'VALKEY' : 'REDIS');
      const ttlFields = fx.records.reduce((n, r) => n + (r.hash_field_expire_at_ms?.length ?? 0), 0);
      assert.equal(writer.stats.droppedFieldTtls, keepsFieldTtls ? 0 : ttlFields);
      let expected = keepsFieldTtls ? fx.records : withoutFieldTtls(fx.records);
      // Stream type 21 stores consumer active-time; from an older source it is the seen-time, as
      // rdbLoadObject sets it when loading type 15/19.
      if (target >= 11) expected = expected.map(withActiveTimes);
      assertRecordsMatch(eventsToRecords(again), expected);
      const fns = again.filter((e) => e.kind === 'function').length;
      assert.equal(fns, ((fx.meta.functions as unknown[] | undefined) ?? []).length);
    });
  }
});
