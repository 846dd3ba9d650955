/**
 * --trace FILE: the bytes a rump exchanges with its source and its target, read back from the hex dump and put
 * together per connection and direction, are the real protocol: the DUMP of a known key to the source, the
 * RESTORE of it (with the very payload the source's DUMP returns) to the target, the AUTH to the target with its
 * password masked, and offsets that follow each other without a gap. With a small [trace] max_bytes the file rotates
 * and no file passes the cap.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { emptyServer, startRedis, type RedisServer } from '../harness/redis-server.js';
import { runCli } from './helpers/run-cli.js';

const PW = 'Tr4ce-Target-Secret';

interface Stream {
  side: string;
  dir: '>' | '<';
  bytes: Buffer;
}

/** The trace file read back: per `conn N side dir`, the bytes in order (checking that offsets follow on). */
function readTrace(text: string): Map<string, Stream> {
  const streams = new Map<string, Stream>();
  let current: { key: string; len: number; rows: Buffer[] } | null = null;
  const close = (): void => {
    if (!current) return;
    const got = Buffer.concat(current.rows);
    assert.equal(got.length, current.len, 'a record shows all of its bytes (record_bytes is large enough)');
    const s = streams.get(current.key)!;
    s.bytes = Buffer.concat([s.bytes, got]);
    current = null;
  };
  for (const line of text.split('\n')) {
    const head = /^\S+ conn (\d+) (\w+) \S+ ([<>]) offset (\d+) len (\d+)$/.exec(line);
    if (head) {
      close();
      const [, id, side, dir, offset, len] = head;
      const key = `${id} ${dir}`;
      if (!streams.has(key)) streams.set(key, { side: side!, dir: dir as '>' | '<', bytes: Buffer.alloc(0) });
      assert.equal(Number(offset), streams.get(key)!.bytes.length, `offsets of conn ${id} ${dir} follow on`);
      current = { key, len: Number(len), rows: [] };
      continue;
    }
    const row = /^ {2}[0-9a-f]{8} {2}((?:[0-9a-f]{2} | {3}| )+)\|/.exec(line);
    if (row && current) current.rows.push(Buffer.from(row[1]!.replace(/\s+/g, ''), 'hex'));
    else close();
  }
  close();
  return streams;
}

function resp(...argv: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const a of argv) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(a);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

describe('--trace FILE: what goes over the wire, secrets masked, size capped', () => {
  let source: RedisServer;
  let target: RedisServer;
  let src: Redis;
  const work = mkdtempSync(join(tmpdir(), 'shake-trace-'));
  before(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis({ password: PW })]);
    src = source.client();
    await src.hset('traced:hash', 'field', 'value', 'other', '42');
    await src.mset(...Array.from({ length: 200 }, (_, i) => [`filler:${i}`, 'x'.repeat(100)]).flat());
  });
  after(async () => {
    src?.disconnect();
    await Promise.all([source?.stop(), target?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  test('rump: DUMP to the source, RESTORE of the same payload to the target, AUTH masked', async () => {
    const file = join(work, 'rump.trace');
    const r = await runCli(
      [
        'rump',
        '--source',
        source.url,
        '--target',
        target.url,
        '--rate',
        '0',
        '--trace',
        file,
        '--on-conflict',
        'replace',
      ],
      { env: { SHAKE_TARGET_PASSWORD: PW, SHAKE_TRACE_RECORD_BYTES: '1mb' } },
    );
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(PW), 'the password is not in the trace');
    const streams = readTrace(text);
    const sides = (side: string, dir: string): Buffer =>
      Buffer.concat([...streams.values()].filter((s) => s.side === side && s.dir === dir).map((s) => s.bytes));
    const toSource = sides('source', '>');
    const toTarget = sides('target', '>');
    const fromTarget = sides('target', '<');
    assert.ok(toSource.includes(resp('DUMP', 'traced:hash')), 'DUMP of the key sent to the source');
    const payload = await src.dumpBuffer('traced:hash');
    assert.ok(payload);
    const restore = toTarget.indexOf(Buffer.from('$11\r\ntraced:hash\r\n'));
    assert.ok(restore > 0, 'the key written to the target');
    assert.ok(toTarget.includes(payload), 'with the payload the source DUMPs');
    assert.ok(toTarget.includes(Buffer.from('RESTORE')), 'by RESTORE');
    assert.ok(toTarget.includes(resp('AUTH', '*'.repeat(PW.length))), 'AUTH sent with its argument masked');
    assert.ok(fromTarget.includes(Buffer.from('+OK\r\n')));
    assert.match(text, /conn \d+ target 127\.0\.0\.1:\d+ open/);
  });

  test('the cap rotates: FILE and FILE.1, none past max_bytes, no third file', async () => {
    await emptyServer(target);
    const file = join(work, 'small.trace');
    const r = await runCli(['rump', '--source', source.url, '--target', target.url, '--rate', '0', '--trace', file], {
      env: {
        SHAKE_TARGET_PASSWORD: PW,
        SHAKE_TRACE_MAX_BYTES: '4096',
        SHAKE_TRACE_FILES: '2',
        SHAKE_TRACE_RECORD_BYTES: '128',
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(`${file}.1`), 'rotated once at least');
    assert.ok(!existsSync(`${file}.2`), 'two files kept in all');
    for (const f of [file, `${file}.1`]) {
      assert.ok(statSync(f).size <= 4096, `${f} holds at most max_bytes`);
      assert.ok(!readFileSync(f, 'utf8').includes(PW));
    }
    assert.match(readFileSync(file, 'utf8'), /more bytes not shown/, 'records cut at record_bytes');
  });
});
