/**
 * Bad input to `shake decode`: truncated, wrong magic, unknown type, bad checksum, flipped bytes, a
 * missing file. Always exit 1 with ONE line on stderr naming the byte offset (and the key when known),
 * no stack unless --debug; the keys decoded before the error are already written out.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExpected } from '../helpers/load-records.js';
import { runCli } from './helpers/run-cli.js';

let dir: string;
const rdbFile = loadExpected('redis-7.0').rdbFile ?? '';
const rdb = readFileSync(rdbFile);
let fullLines: string[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shake-decode-errors-'));
  const full = await runCli(['decode', rdbFile, '-q']);
  assert.equal(full.code, 0, full.stderr);
  fullLines = full.stdout.toString('utf8').split('\n').filter(Boolean);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, data: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

function assertOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line expected, got:\n${stderr}`);
  assert.match(lines[0] ?? '', pattern);
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack without --debug');
}

for (const cut of [0, 9, 100_000, Math.floor(rdb.length / 2), rdb.length - 1]) {
  test(`truncated at ${cut} bytes: exit 1, one line with the byte offset, earlier keys written`, async () => {
    const p = write(`trunc-${cut}.rdb`, rdb.subarray(0, cut));
    const res = await runCli(['decode', p]);
    assert.equal(res.code, 1);
    assertOneLineError(res.stderr, /^error: .*byte \d+/);
    const out = res.stdout.toString('utf8');
    const lines = out.split('\n');
    const complete = lines.slice(0, -1);
    // every complete line is the same as in the full decode, in the same order
    assert.deepEqual(complete, fullLines.slice(0, complete.length));
    if (cut >= rdb.length / 2) assert.ok(complete.length > fullLines.length / 4, `${complete.length} lines written`);
    if (cut === 100_000) assert.match(res.stderr, /while reading key/);
  });
}

test('wrong magic: names byte 0', async () => {
  const p = write('magic.rdb', Buffer.concat([Buffer.from('RADIS0009'), rdb.subarray(9)]));
  const res = await runCli(['decode', p]);
  assert.equal(res.code, 1);
  assertOneLineError(res.stderr, /at byte 0/);
  assert.equal(res.stdout.length, 0);
});

test('unknown value type: names the type byte and its offset', async () => {
  // REDIS0009, SELECTDB 0, then a type byte no Redis version has written
  const data = Buffer.concat([Buffer.from('REDIS0009'), Buffer.from([0xfe, 0x00, 0x63, 0x01, 0x6b, 0x01, 0x76])]);
  const res = await runCli(['decode', write('type.rdb', data)]);
  assert.equal(res.code, 1);
  assertOneLineError(res.stderr, /byte 11/);
  assert.match(res.stderr, /0x63|99/);
});

test('bad checksum: exit 1 after writing every key; --no-verify-checksum accepts it; --info reports it', async () => {
  const bad = Buffer.from(rdb);
  bad[bad.length - 3] = (bad[bad.length - 3] as number) ^ 0xff;
  const p = write('crc.rdb', bad);
  const res = await runCli(['decode', p]);
  assert.equal(res.code, 1);
  assertOneLineError(res.stderr, /checksum.*byte \d+/);
  assert.equal(res.stdout.toString('utf8').split('\n').filter(Boolean).length, fullLines.length);
  const off = await runCli(['decode', p, '--no-verify-checksum', '-q']);
  assert.equal(off.code, 0, off.stderr);
  const info = await runCli(['decode', p, '--info', '-q']);
  assert.equal(info.code, 1);
  assert.match(info.stdout.toString(), /checksum: mismatch/);
  assertOneLineError(info.stderr, /checksum mismatch/);
});

test('flipped bytes: never a stack or a hang; exit 0 or a one-line error', async () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 3; i++) {
    const bad = Buffer.from(rdb);
    const at = 9 + Math.floor(rnd() * (bad.length - 9));
    bad[at] = (bad[at] as number) ^ (1 + Math.floor(rnd() * 255));
    const res = await runCli(['decode', write(`flip-${i}.rdb`, bad), '--no-verify-checksum', '-q'], {
      timeoutMs: 20_000,
    });
    assert.ok(res.code === 0 || res.code === 1, `flip at ${at}: exit ${res.code} ${res.stderr}`);
    if (res.code === 1) assertOneLineError(res.stderr, /^error: /);
  }
});

test('--debug adds the stack', async () => {
  const p = write('trunc-debug.rdb', rdb.subarray(0, 1000));
  const res = await runCli(['decode', p, '--debug']);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /^error: .*byte 1000/);
  assert.match(res.stderr, /^\s+at /m);
});

test('a missing file: one line, exit 1', async () => {
  const res = await runCli(['decode', join(dir, 'nope.rdb')]);
  assert.equal(res.code, 1);
  assertOneLineError(res.stderr, /no such file/);
});

test('a bad flag value: one line, exit 1', async () => {
  const res = await runCli(['decode', rdbFile, '--format', 'xml']);
  assert.equal(res.code, 1);
  assertOneLineError(res.stderr, /jsonl, json, resp, keys, memory/);
});
