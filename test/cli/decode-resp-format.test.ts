/**
 * The RESP text of `--format resp`, read with @shake/resp's decoder (no server): hash field TTLs of the
 * 7.4 fixture (which the installed 7.0 server cannot take) become HPEXPIREAT commands carrying exactly
 * the fixture's per-field expiry times; collections are split into commands of at most --resp-batch
 * elements; every key gets its PEXPIREAT; SELECT precedes each db.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespDecoder } from '@shake/resp';
import { loadExpected } from '../helpers/load-records.js';
import { runCli } from './helpers/run-cli.js';

function commands(resp: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  const dec = new RespDecoder({ onReply: (v: unknown) => out.push(v as Buffer[]) });
  dec.write(resp);
  return out;
}

test('7.4 fixture as RESP: HPEXPIREAT per field TTL, batches of at most --resp-batch, PEXPIREAT per TTL', async () => {
  const fx = loadExpected('redis-7.4');
  const res = await runCli(['decode', fx.rdbFile ?? '', '--format', 'resp', '--resp-batch', '7', '-q']);
  assert.equal(res.code, 0, res.stderr);
  const cmds = commands(res.stdout);
  let db = -1;
  const fieldTtl = new Map<string, number>();
  const keyTtl = new Map<string, number>();
  const dbsSeen: number[] = [];
  for (const argv of cmds) {
    const name = argv[0]?.toString() ?? '';
    if (name === 'SELECT') {
      db = Number(argv[1]?.toString());
      dbsSeen.push(db);
      continue;
    }
    if (['RPUSH', 'SADD', 'HSET'].includes(name)) assert.ok(argv.length - 2 <= 7 * (name === 'HSET' ? 2 : 1), name);
    if (name === 'ZADD') assert.ok(argv.length - 2 <= 14);
    const key = `${db}:${argv[1]?.toString('base64')}`;
    if (name === 'HPEXPIREAT') {
      const ms = Number(argv[2]?.toString());
      assert.equal(argv[3]?.toString(), 'FIELDS');
      const n = Number(argv[4]?.toString());
      assert.equal(argv.length, 5 + n);
      for (const f of argv.slice(5)) fieldTtl.set(`${key}/${f.toString('base64')}`, ms);
    }
    if (name === 'PEXPIREAT') keyTtl.set(key, Number(argv[2]?.toString()));
  }
  assert.deepEqual(dbsSeen, [...new Set(fx.records.map((r) => r.db))]);
  const wantField = new Map<string, number>();
  const wantKey = new Map<string, number>();
  for (const r of fx.records) {
    for (const [f, ms] of r.hash_field_expire_at_ms ?? []) wantField.set(`${r.db}:${r.key_b64}/${f}`, ms);
    if (r.expire_at_ms !== null) wantKey.set(`${r.db}:${r.key_b64}`, r.expire_at_ms);
  }
  assert.ok(wantField.size > 0);
  assert.deepEqual(fieldTtl, wantField);
  assert.deepEqual(keyTtl, wantKey);
});
