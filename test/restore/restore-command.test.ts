import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitDumpPayload } from '@shake/rdb';
import { EncodedCommands, RespServerError, encodeCommandToBuffer } from '@shake/resp';
import { connect } from '../../src/redis/index.js';
import { RestoreCommand } from '../../src/sinks/redis/restore-command.js';
import { startRedis } from '../harness/redis-server.js';

/**
 * The RESTORE that writes itself into the sink's batch (restore-command.ts) against the references: its
 * payload is byte for byte what the server's own DUMP returns, its bytes are what the argv encoder writes, and
 * a real server takes a run of them mixed with argv commands, replies in order, errors as values.
 */
test('RestoreCommand: the payload equals the server DUMP, the bytes the argv encoding; a real server loads a mixed batch', async () => {
  const server = await startRedis();
  const conn = await connect({ host: server.host, port: server.port });
  const client = server.client();
  try {
    const big = 'v'.repeat(70_000);
    await client.set('s', 'hello');
    await client.set('i', '12345');
    await client.set('big', big);
    await client.rpush('l', 'a', 'b', Buffer.from([0, 0xff, 0x0d, 0x0a]));
    await client.hset('h', 'f', '1', 'g', '2');
    await client.zadd('z', '1.5', 'm', '-3', 'n');
    const names = ['s', 'i', 'big', 'l', 'h', 'z'];
    const dumps = (await conn.sendBatch(names.map((k) => ['DUMP', k]))) as Buffer[];
    const encoded: Buffer[] = [];
    const cmd = new RestoreCommand();
    const keys = names.map((k) => Buffer.from(`copy:${k}`));
    for (const [i, dump] of dumps.entries()) {
      const { rdbType, body, rdbVersion } = splitDumpPayload(dump);
      const key = keys[i]!;
      for (const [ttl, absTtl, replace] of [
        [0, false, false],
        [1_733_000_000_000, true, true],
        [12, false, true],
      ] as const) {
        // Built from the body in place, and the whole payload passed through: both give the server's DUMP.
        for (const whole of [false, true]) {
          cmd.head(key, ttl, absTtl, replace);
          if (whole) cmd.payload(dump);
          else cmd.body(rdbType, body, rdbVersion);
          const argv = cmd.argv();
          assert.deepEqual(argv[3], dump, `payload of ${names[i]} = the server's DUMP`);
          const out = Buffer.alloc(cmd.length + 8, 0xee);
          const end = cmd.write(out, 4);
          assert.equal(end, 4 + cmd.length);
          assert.deepEqual(out.subarray(4, end), encodeCommandToBuffer(argv), `bytes of ${names[i]}`);
          assert.equal(out[end], 0xee, 'nothing written past the end');
        }
      }
      cmd.head(key, 0, false, false).body(rdbType, body, rdbVersion);
      const out = Buffer.alloc(cmd.length);
      cmd.write(out, 0);
      encoded.push(out);
    }
    // argv, a run of 6 RESTOREs, a run with one RESTORE of an existing key (BUSYKEY), argv.
    const replies = await conn.sendBatch([
      ['SET', 'before', '1'],
      new EncodedCommands(Buffer.concat(encoded), encoded.length),
      new EncodedCommands(encoded[0]!, 1),
      ['GET', 'copy:s'],
    ]);
    assert.equal(replies.length, 9);
    assert.deepEqual(replies.slice(0, 7), ['OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK']);
    assert.ok(replies[7] instanceof RespServerError && replies[7].code === 'BUSYKEY', String(replies[7]));
    assert.deepEqual(replies[8], Buffer.from('hello'));
    assert.equal(await client.get('copy:big'), big);
    assert.deepEqual(await client.lrangeBuffer('copy:l', 0, -1), [
      Buffer.from('a'),
      Buffer.from('b'),
      Buffer.from([0, 0xff, 0x0d, 0x0a]),
    ]);
    assert.deepEqual(await client.zrange('copy:z', '0', '-1', 'WITHSCORES'), ['n', '-3', 'm', '1.5']);
    assert.equal(conn.inflightCount, 0);
  } finally {
    client.disconnect();
    await conn.close();
    await server.stop();
  }
});
