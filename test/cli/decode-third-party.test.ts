/**
 * Every third-party RDB (redis tests/assets, redis-rdb-tools dumps) through `shake decode`: exit 0 with
 * one JSON record per line, or (corrupt_ziplist.rdb) one error line. The module value of
 * redis_40_with_module.rdb becomes a RESTORE whose DUMP payload framing (version + CRC64) a live server
 * accepts: it fails on the unknown module, not on "checksum are wrong".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RespDecoder } from '@shake/resp';
import { decode } from '../../src/pipelines/decode.js';
import { startRedis } from '../harness/redis-server.js';
import { fixturesDir } from '../helpers/load-records.js';
import { parseDecodedJsonl } from './helpers/decoded-records.js';
import { runCli } from './helpers/run-cli.js';

const dirs = ['third-party/redis-tests-assets', 'third-party/rdbtools-dumps'].map((d) => join(fixturesDir, d));
const files = dirs.flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith('.rdb'))
    .map((f) => join(d, f)),
);

test('every third-party RDB decodes (or fails with one line)', async () => {
  assert.ok(files.length > 30);
  const dir = mkdtempSync(join(tmpdir(), 'shake-third-party-'));
  try {
    for (const f of files) {
      if (f.endsWith('corrupt_ziplist.rdb')) continue;
      // the same pipeline as the CLI, in-process (36 CLI start-ups would dominate the run time)
      const output = join(dir, 'out.jsonl');
      await decode({
        input: f,
        output,
        format: 'jsonl',
        strings: 'auto',
        batchSize: 100,
        respBatch: 10,
        verifyChecksum: false,
      }).done;
      for (const l of parseDecodedJsonl(readFileSync(output, 'utf8')))
        assert.ok(l.key !== undefined || l.function !== undefined, f);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const bad = await runCli(['decode', join(fixturesDir, 'third-party', 'redis-tests-assets', 'corrupt_ziplist.rdb')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: bad RDB: .* at byte \d+ while reading key "key:\d+"\n$/);
});

test('a module value becomes RESTORE with a payload whose framing redis-server accepts', async () => {
  const f = join(fixturesDir, 'third-party', 'rdbtools-dumps', 'redis_40_with_module.rdb');
  const json = await runCli(['decode', f, '-q', '--type', 'module']);
  const [rec] = parseDecodedJsonl(json.stdout.toString('utf8'));
  assert.deepEqual((rec?.value as { module: string }).module, 'ReJSON-RL');
  const res = await runCli(['decode', f, '-q', '--format', 'resp', '--type', 'module']);
  const cmds: Buffer[][] = [];
  new RespDecoder({ onReply: (v: unknown) => cmds.push(v as Buffer[]) }).write(res.stdout);
  const restore = cmds.find((c) => c[0]?.toString() === 'RESTORE');
  assert.ok(restore);
  const server = await startRedis();
  const c = server.client();
  try {
    const err = await c.call('RESTORE', ...restore.slice(1)).then(
      () => null,
      (e: Error) => e.message,
    );
    assert.ok(err, 'no module loaded: RESTORE must fail');
    assert.doesNotMatch(err, /checksum/i);
    assert.match(err, /Bad data format/);
  } finally {
    c.disconnect();
    await server.stop();
  }
});
