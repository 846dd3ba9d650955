/**
 * Inputs and outputs of `shake decode`: stdin (`-`), --output FILE, a reader that goes away (`| head`),
 * --format keys (raw bytes), --strings base64, and --payload / --payload-file with DUMP payloads taken
 * from a live redis-server (values compared with what the server itself returns).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from '../../src/pipelines/decode.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import { compareRecords } from '../helpers/compare-records.js';
import { parseDecodedJsonl, toRecord } from './helpers/decoded-records.js';
import { binRun, cleanEnv, runCli } from './helpers/run-cli.js';

const fx = loadExpected('redis-7.2');
const rdbFile = fx.rdbFile ?? '';
let dir: string;
let fromFile: Buffer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shake-decode-inputs-'));
  const res = await runCli(['decode', rdbFile, '-q']);
  assert.equal(res.code, 0, res.stderr);
  fromFile = res.stdout;
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('stdin (-) gives the same output as the file', async () => {
  const res = await runCli(['decode', '-', '-q'], { stdin: readFileSync(rdbFile) });
  assert.equal(res.code, 0, res.stderr);
  assert.ok(res.stdout.equals(fromFile));
});

test('--output FILE writes the same bytes; the summary goes to stderr', async () => {
  const out = join(dir, 'out.jsonl');
  const res = await runCli(['decode', rdbFile, '--output', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout.length, 0);
  assert.match(res.stderr, /^176|^172 keys read, 172 written/);
  assert.ok(readFileSync(out).equals(fromFile));
});

test('a reader that goes away (| head -n 1) ends quietly with exit 0', () => {
  const r = spawnSync('bash', ['-c', `set -o pipefail; node ${binRun} decode ${rdbFile} | head -n 1 > /dev/null`], {
    env: cleanEnv(),
    encoding: 'utf8',
  });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
});

test('--format keys: each key as raw bytes and a newline', async () => {
  const res = await runCli(['decode', rdbFile, '--format', 'keys', '-q']);
  assert.equal(res.code, 0, res.stderr);
  const keys = fx.records.map((r) => Buffer.from(r.key_b64, 'base64'));
  assert.equal(
    res.stdout.length,
    keys.reduce((n, k) => n + k.length + 1, 0),
  );
  // every expected key appears, framed by newlines, in the output
  const framed = Buffer.concat([Buffer.from('\n'), res.stdout]);
  for (const k of keys)
    assert.ok(framed.includes(Buffer.concat([Buffer.from('\n'), k, Buffer.from('\n')])), k.toString('hex'));
});

test('--strings base64: every byte string is {"base64"} and the records are the same', async () => {
  const res = await runCli(['decode', rdbFile, '--strings', 'base64', '-q']);
  assert.equal(res.code, 0, res.stderr);
  const lines = parseDecodedJsonl(res.stdout.toString('utf8'));
  const keys = lines.filter((l) => l.key !== undefined);
  for (const l of keys) assert.equal(typeof (l.key as { base64?: string }).base64, 'string');
  assert.doesNotMatch(res.stdout.toString('utf8'), /"key":"/);
  assert.deepEqual(compareRecords(keys.map(toRecord), fx.records), []);
});

test('auto strings: printable UTF-8 as text, other bytes as base64', async () => {
  const lines = parseDecodedJsonl(fromFile.toString('utf8'));
  const keyOf = (b: string) => lines.find((l) => l.key !== undefined && toRecord(l).key_b64 === b)?.key;
  assert.equal(keyOf(Buffer.from('café').toString('base64')), 'café');
  assert.deepEqual(keyOf(Buffer.from([0]).toString('base64')), { base64: 'AA==' });
  assert.equal(keyOf(''), '');
});

test('--payload and --payload-file decode DUMP payloads from a live server', async () => {
  const server: RedisServer = await startRedis();
  const c = server.client();
  try {
    await c.set('s', 'hello');
    await c.set('n', '12345');
    await c.rpush('l', 'a', 'b', '\x00\xff');
    await c.sadd('si', '1', '2', '70000');
    await c.sadd('ss', ...Array.from({ length: 600 }, (_, i) => `m${i}`));
    await c.zadd('z', 1.5, 'a', '-inf', 'b', 3, 'c');
    await c.zadd('zs', ...Array.from({ length: 300 }, (_, i) => [i / 7, `m${i}`]).flat());
    await c.hset('h', 'f', 'v', 'n', '1');
    await c.xadd('x', '1-1', 'a', '1');
    await c.xadd('x', '2-1', 'b', '2');
    await c.xgroup('CREATE', 'x', 'g', '0');
    await c.xreadgroup('GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 'x', '>');
    const records = await readKeyspace({ host: '127.0.0.1', port: server.port });
    assert.equal(records.length, 9);
    for (const rec of records) {
      const key = Buffer.from(rec.key_b64, 'base64');
      const payload = (await c.dumpBuffer(key)) as Buffer;
      let text: string;
      if (key.equals(Buffer.from('x')) || key.equals(Buffer.from('l'))) {
        // through the CLI, both flags
        const viaHex = await runCli(['decode', '--payload', payload.toString('hex'), '-q']);
        assert.equal(viaHex.code, 0, viaHex.stderr);
        const file = join(dir, `payload-${key.toString('hex')}`);
        writeFileSync(file, payload);
        const viaFile = await runCli(['decode', '--payload-file', file, '-q']);
        assert.ok(viaFile.stdout.equals(viaHex.stdout));
        text = viaHex.stdout.toString('utf8');
      } else {
        // the same pipeline in-process
        const output = join(dir, `payload-${key.toString('hex')}.jsonl`);
        await decode({
          payload,
          output,
          format: 'jsonl',
          strings: 'auto',
          batchSize: 7,
          respBatch: 5,
          verifyChecksum: true,
        }).done;
        text = readFileSync(output, 'utf8');
      }
      const [line] = parseDecodedJsonl(text);
      assert.ok(line);
      const ours = { ...toRecord(line), db: rec.db, key_b64: rec.key_b64 };
      const diffs = compareRecords([ours], [rec]);
      assert.deepEqual(diffs, [], key.toString());
    }
  } finally {
    c.disconnect();
    await server.stop();
  }
});

test('--payload with a broken checksum: one line, exit 1', async () => {
  const res = await runCli(['decode', '--payload', '0003616263090000000000000000', '-q']);
  assert.equal(res.code, 1);
  assert.equal(res.stderr.split('\n').filter(Boolean).length, 1);
});
