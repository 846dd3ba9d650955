/**
 * The small pure pieces of restore: DUMP payload building, db mapping, the per-key strategy, score text,
 * and the JSON-lines reader's byte forms. Whatever talks to a server is tested against real ones elsewhere.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildDumpPayload, buildDumpPayloadBuffer, splitDumpPayload, type KeyHeader } from '@shake/rdb';
import { featuresFor } from '../../src/rewrite/features.js';
import { formatScore } from '../../src/rewrite/format.js';
import { DbMapError, DbMapper, parseDbMap } from '../../src/sinks/redis/db-map.js';
import { planAtEnd, planAtStart, type TargetProfile } from '../../src/sinks/redis/strategy.js';
import { jsonlSource } from '../../src/sources/jsonl.js';
import { detectKind } from '../../src/sources/manifest.js';
import type { Entry } from '../../src/core/entry.js';

const target = (version: string, kind: TargetProfile['kind'], rdbVersion: number): TargetProfile => ({
  kind,
  features: featuresFor(version, kind),
  rdbVersion,
});
const header = (type: KeyHeader['type'], rdbType: number): KeyHeader => ({
  db: 0,
  key: Buffer.from('k'),
  type,
  rdbType,
  encoding: '',
  expireAtMs: null,
  offset: 0,
});
const opts = { bigKeyThreshold: 1 << 20, bigKeyElements: 1000 };

describe('restore units', () => {
  it('the one-allocation DUMP payload restore sends equals the chunk-list payload (both @shake/rdb)', () => {
    for (const body of [Buffer.alloc(0), Buffer.from('abc'), Buffer.alloc(70_000, 0x5a)]) {
      for (const [type, version] of [
        [0, 10],
        [18, 12],
        [4, 6],
      ] as const) {
        const mine = buildDumpPayloadBuffer(type, body, version);
        assert.deepEqual(mine, Buffer.concat(buildDumpPayload(type, body, version)));
        assert.deepEqual(buildDumpPayloadBuffer(type, [body.subarray(0, 1), body.subarray(1)], version), mine);
        assert.equal(splitDumpPayload(mine).rdbVersion, version);
      }
    }
  });

  it('db maps: explicit, wildcard, implicit single db, refusal to merge', () => {
    assert.deepEqual(parseDbMap('0:5, 1:6,*:9'), {
      map: new Map([
        [0, 5],
        [1, 6],
      ]),
      rest: 9,
    });
    assert.throws(() => parseDbMap('0-5'), DbMapError);
    const standalone = new DbMapper(parseDbMap('0:5'), false);
    assert.equal(standalone.map(0), 5);
    assert.equal(standalone.map(3), 3);
    const cluster = new DbMapper(parseDbMap(''), true);
    assert.equal(cluster.map(4), 0);
    assert.equal(cluster.map(4), 0);
    assert.throws(() => cluster.map(5), /db 4 and db 5/);
    assert.equal(new DbMapper(parseDbMap('*:0'), true).map(7), 0);
    assert.throws(() => new DbMapper(parseDbMap('1:2'), true), /only db 0/);
  });

  it('strategy: raw when loadable, re-encode when the type is newer, commands for big/proxy/field TTLs', () => {
    const r70 = target('7.0.15', 'standalone', 10);
    const r74 = target('7.4.1', 'standalone', 12);
    const raw = Buffer.from('x');
    assert.deepEqual(planAtEnd(header('hash', 16), raw, 12, r70, true), { how: 'restore-raw' });
    assert.equal(planAtEnd(header('stream', 21), raw, 11, r70, true).how, 'restore-encode');
    assert.equal(planAtEnd(header('set', 20), raw, 11, r70, true).how, 'restore-encode');
    assert.equal(planAtEnd(header('hash', 25), raw, 12, r70, true).how, 'commands');
    assert.deepEqual(planAtEnd(header('hash', 25), raw, 12, r74, true), { how: 'restore-raw' });
    assert.equal(planAtEnd(header('hash', 16), undefined, null, r70, true).how, 'restore-encode');
    assert.equal(planAtEnd(header('hash', 16), raw, 12, target('5.0.0', 'proxy', 9), true).how, 'commands');
    assert.equal(planAtEnd(header('module', 7), undefined, 9, r70, true).how, 'unsupported');
    assert.equal(planAtStart(header('hash', 4), 5000, r70, opts).how, 'commands');
    assert.equal(planAtStart(header('hash', 4), 10, r70, opts).how, 'buffer');
    assert.equal(
      planAtStart(header('stream', 21), undefined, target('4.0.0', 'standalone', 8), opts).how,
      'unsupported',
    );
    assert.equal(planAtStart(header('stream', 21), undefined, target('5.0.0', 'proxy', 9), opts).how, 'unsupported');
  });

  it('scores keep their exact double through text', () => {
    for (const x of [0.1, 1e300, 5e-324, 1.7976931348623157e308, 2 ** 53 + 2, -2.5])
      assert.equal(Number(formatScore(x)), x);
    assert.equal(formatScore(Infinity), 'inf');
    assert.equal(formatScore(-Infinity), '-inf');
    assert.equal(formatScore(-0), '-0');
  });

  it('input kinds by first bytes', () => {
    assert.equal(detectKind(Buffer.from('REDIS0011')), 'rdb');
    assert.equal(detectKind(Buffer.from('VALKEY080')), 'rdb');
    assert.equal(detectKind(Buffer.from('*2\r\n$6\r\nSELECT')), 'aof');
    assert.equal(detectKind(Buffer.from('#TS:1\r\n')), 'aof');
    assert.equal(detectKind(Buffer.from('{"db":0}')), 'jsonl');
    assert.equal(detectKind(Buffer.from('file appendonly.aof.1.base.rdb seq 1 type b\n')), 'aof-manifest');
    assert.equal(detectKind(Buffer.from('hello')), null);
  });

  it('JSON lines: strings, {"base64"} and fixture {"b64"} forms, split anywhere', async () => {
    const text =
      '{"db":1,"key":{"base64":"AP8="},"type":"string","value":"caf\u00e9","expire_at_ms":4102444800000}\n' +
      '{"db":0,"key_b64":"aw==","type":"hash","value":[["Zg==","dg=="]],"expire_at_ms":null,"hash_field_expire_at_ms":[["Zg==",4102444800001]]}\n' +
      '{"function":"#!lua name=x\\n"}\n';
    const input = Buffer.from(text);
    for (const cut of [1, 17, input.length - 3]) {
      const events: Entry[] = [];
      const chunks = async function* (): AsyncGenerator<Buffer> {
        yield input.subarray(0, cut);
        yield input.subarray(cut);
      };
      for await (const b of jsonlSource(chunks())) events.push(...b);
      const starts = events.filter((e) => e.kind === 'key-start');
      assert.equal(starts.length, 2);
      const first = starts[0];
      assert.ok(first?.kind === 'key-start');
      assert.deepEqual(first.header.key, Buffer.from([0, 255]));
      assert.equal(first.header.db, 1);
      assert.equal(first.header.expireAtMs, 4102444800000);
      const str = events.find((e) => e.kind === 'string');
      assert.ok(str?.kind === 'string');
      assert.equal(str.value.toString('utf8'), 'café');
      const hash = events.find((e) => e.kind === 'hash-entries');
      assert.ok(hash?.kind === 'hash-entries');
      assert.equal(hash.entries[0]?.expireAtMs, 4102444800001);
      assert.equal(hash.entries[0]?.field.toString(), 'f');
      assert.ok(events.some((e) => e.kind === 'function'));
    }
  });
});
