import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ReplicationError } from '../../src/replica/errors.js';
import { dumpSnapshot, type MasterSocket, type SnapshotDumpOptions } from '../../src/replica/snapshot-dump.js';
import { fixtureRdb } from '../dump/helpers.js';
import { acceptHandshake, startMockMaster, type MockConnection } from './mock-master.js';

const RDB = readFileSync(fixtureRdb('redis-7.0'));
const REPLID = 'a'.repeat(40);
const MARK = '0123456789abcdef0123456789abcdef01234567';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function opener(port: number): () => Promise<MasterSocket> {
  return () =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', reject);
      socket.once('connect', () => resolve({ socket, peer: `127.0.0.1:${port}`, localPort: socket.localPort ?? 0 }));
    });
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Sends `bytes` in pieces of `size` (1 = byte by byte), each its own write after a tick. */
async function dribble(c: MockConnection, bytes: Buffer, size: number): Promise<void> {
  for (let i = 0; i < bytes.length; i += size) {
    c.send(bytes.subarray(i, i + size));
    if (size < 64 || i % (size * 16) === 0) await tick();
  }
}

/** Small pieces where the framing is (header, keepalives, the start, the end and its mark), big in between. */
async function dribbleEnds(c: MockConnection, bytes: Buffer, size: number): Promise<void> {
  const head = Math.min(bytes.length, 2000);
  const tail = Math.max(head, bytes.length - 200);
  await dribble(c, bytes.subarray(0, head), size);
  await dribble(c, bytes.subarray(head, tail), Math.max(size, 8192));
  await dribble(c, bytes.subarray(tail), size);
}

describe('replica link against a scripted master (fault injection)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-link-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const leftovers = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

  async function dump(
    script: (c: MockConnection) => Promise<void>,
    extra: Partial<SnapshotDumpOptions> = {},
  ): Promise<{ path: string; res: Awaited<ReturnType<typeof dumpSnapshot>> }> {
    const master = await startMockMaster(script);
    const path = join(dir, `d${n++}.rdb`);
    try {
      const res = await dumpSnapshot({ open: opener(master.port), path, timeoutMs: 2000, ...extra });
      return { path, res };
    } finally {
      await master.close();
    }
  }

  async function dumpFails(script: (c: MockConnection) => Promise<void>, extra: Partial<SnapshotDumpOptions> = {}) {
    const err = await dump(script, extra).then(
      () => assert.fail('expected the dump to fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ReplicationError, String(err));
    assert.deepEqual(leftovers(), []);
    return err;
  }

  for (const form of ['disk', 'diskless'] as const) {
    for (const size of [1, 7, 4096, RDB.length + 100]) {
      test(`${form} transfer in pieces of ${size} bytes, keepalives before the reply and the payload`, async () => {
        const payload =
          form === 'disk'
            ? Buffer.concat([Buffer.from(`$${RDB.length}\r\n`), RDB])
            : Buffer.concat([Buffer.from(`$EOF:${MARK}\r\n`), RDB, Buffer.from(MARK)]);
        const { path, res } = await dump(async (c) => {
          const argv = await acceptHandshake(c);
          assert.deepEqual(argv, ['PSYNC', '?', '-1']);
          c.send('\n\n');
          await sleep(5);
          c.send(`+FULLRESYNC ${REPLID} 1234\r\n\n\n`);
          await dribbleEnds(c, payload, size);
        });
        assert.deepEqual(readFileSync(path), RDB);
        assert.equal(res.form, form);
        assert.equal(res.resync.via, 'psync');
        assert.equal(res.resync.replid, REPLID);
        assert.equal(res.resync.offset, 1234);
        assert.equal(res.checksum, RDB.readBigUInt64LE(RDB.length - 8));
        assert.deepEqual(leftovers(), []);
      });
    }
  }

  test('an old master without PSYNC: falls back to SYNC', async () => {
    const seen: string[][] = [];
    const { path, res } = await dump(async (c) => {
      seen.push(await acceptHandshake(c));
      c.send("-ERR unknown command 'PSYNC'\r\n");
      seen.push(await c.next());
      c.send(`\n$${RDB.length}\r\n`);
      c.send(RDB);
    });
    assert.deepEqual(seen, [['PSYNC', '?', '-1'], ['SYNC']]);
    assert.equal(res.resync.via, 'sync');
    assert.deepEqual(readFileSync(path), RDB);
  });

  test('SYNC and PSYNC both unknown (renamed away): refused, as on ElastiCache', async () => {
    const err = await dumpFails(async (c) => {
      await acceptHandshake(c);
      c.send("-ERR unknown command 'PSYNC', with args beginning with: '?' '-1' \r\n");
      await c.next();
      c.send("-ERR unknown command 'SYNC', with args beginning with: \r\n");
    });
    assert.equal(err.kind, 'refused');
    assert.match(err.message, /ElastiCache/);
  });

  test('-NOPERM on PSYNC: refused, with the permissions needed', async () => {
    const err = await dumpFails(async (c) => {
      await acceptHandshake(c);
      c.send("-NOPERM User u has no permissions to run the 'psync' command\r\n");
    });
    assert.equal(err.kind, 'refused');
    assert.match(err.message, /NOPERM.*\+psync/);
  });

  test('the master closes the link mid-transfer: a clear error, no file', async () => {
    const err = await dumpFails(async (c) => {
      await acceptHandshake(c);
      c.send(`+FULLRESYNC ${REPLID} 0\r\n$${RDB.length}\r\n`);
      c.send(RDB.subarray(0, 5000));
      await sleep(20);
      c.socket.destroy();
    });
    assert.equal(err.kind, 'closed');
    assert.match(err.message, new RegExp(`5000 of ${RDB.length} bytes`));
    assert.match(err.message, /client-output-buffer-limit replica/);
  });

  test('silence after +FULLRESYNC: timeout', async () => {
    const started = Date.now();
    const err = await dumpFails(
      async (c) => {
        await acceptHandshake(c);
        c.send(`+FULLRESYNC ${REPLID} 0\r\n`);
        await sleep(3000);
      },
      { timeoutMs: 300 },
    );
    assert.equal(err.kind, 'timeout');
    assert.ok(Date.now() - started < 2500);
  });

  test('keepalive newlines keep a slow fork alive past the idle timeout', async () => {
    const { path } = await dump(
      async (c) => {
        await acceptHandshake(c);
        c.send(`+FULLRESYNC ${REPLID} 0\r\n`);
        for (let i = 0; i < 8; i++) {
          await sleep(100);
          c.send('\n');
        }
        c.send(`$${RDB.length}\r\n`);
        c.send(RDB);
      },
      { timeoutMs: 300 },
    );
    assert.deepEqual(readFileSync(path), RDB);
  });

  test('the master aborts with -ERR where the payload should start', async () => {
    const err = await dumpFails(async (c) => {
      await acceptHandshake(c);
      c.send(`+FULLRESYNC ${REPLID} 0\r\n\n-ERR BGSAVE failed, replication can't continue\r\n`);
    });
    assert.equal(err.kind, 'aborted');
    assert.match(err.message, /BGSAVE failed/);
  });

  test('a corrupted snapshot fails the CRC64 check and leaves no file', async () => {
    const bad = Buffer.from(RDB);
    bad[1000]! ^= 0xff;
    const err = await dumpFails(async (c) => {
      await acceptHandshake(c);
      c.send(`+FULLRESYNC ${REPLID} 0\r\n$EOF:${MARK}\r\n`);
      c.send(bad);
      c.send(MARK);
    });
    assert.equal(err.kind, 'checksum');
    assert.match(err.message, /CRC64/);
  });

  test('garbage instead of the payload header: protocol error', async () => {
    const err = await dumpFails(async (c) => {
      await acceptHandshake(c);
      c.send(`+FULLRESYNC ${REPLID} 0\r\nHTTP/1.1 400 Bad Request\r\n\r\n`);
    });
    assert.equal(err.kind, 'protocol');
  });

  test('a small file-writer queue pauses the socket and still writes every byte', async () => {
    const big = Buffer.concat(Array.from({ length: 40 }, () => RDB.subarray(0, RDB.length - 8)));
    // Not a valid RDB as a whole: verify off, only the bytes and the pause/resume path matter.
    const { path, res } = await dump(
      async (c) => {
        await acceptHandshake(c);
        c.send(`+FULLRESYNC ${REPLID} 0\r\n$${big.length}\r\n`);
        await dribble(c, big, 65536);
      },
      { verify: false, highWaterMark: 16 * 1024 },
    );
    assert.equal(res.bytes, big.length);
    assert.deepEqual(readFileSync(path), big);
  });
});
