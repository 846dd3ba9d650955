/**
 * rump does not check DUMP payloads itself where they go to the target as they are (the target checks the
 * CRC64 on RESTORE); where it restamps or decodes them for an older target it checks them first. Either way a
 * payload damaged on the way is one failed key, named, and every other key is copied: here the source
 * connection flips one byte of the DUMP replies of two keys, against a real 7.0 target (same RDB version:
 * refused by the target) and a real 6.2 target (older: refused by rump before it writes anything for them).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RespValue } from '@shake/resp';
import { connect } from '../../src/redis/index.js';
import type { ConnectSource } from '../../src/rump/source-nodes.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { serverBinary } from '../harness/servers.js';
import { connectionOf, runRump } from './helpers.js';

const DAMAGED = new Set(['bad:string', 'bad:hash']);

/** Real connections whose DUMP replies for the DAMAGED keys come back with one body byte flipped. */
const damaging: ConnectSource = async (opts) => {
  const conn = await connect(opts);
  return {
    call: (argv) => conn.call(argv),
    close: () => conn.close(),
    sendBatch: async (argvs) => {
      const replies = await conn.sendBatch(argvs);
      return argvs.map((a, i): RespValue => {
        const r = replies[i] ?? null;
        if (!Array.isArray(a) || String(a[0]) !== 'DUMP' || !DAMAGED.has(String(a[1])) || !Buffer.isBuffer(r)) return r;
        const copy = Buffer.from(r);
        copy[2] = (copy[2] as number) ^ 0x20;
        return copy;
      });
    },
  };
};

describe('rump: damaged DUMP payloads are failed keys, named; the rest is copied', () => {
  let source: RedisServer;
  before(async () => {
    source = await startRedis();
    const c = source.client();
    try {
      for (let i = 0; i < 200; i++) await c.set(`good:${i}`, `value ${i} ${'x'.repeat(i % 40)}`);
      await c.hset('good:hash', 'f', 'v', 'g', 'w');
      await c.set('bad:string', 'a string value long enough to flip a byte in');
      await c.hset('bad:hash', 'field', 'value', 'other', 'value2');
    } finally {
      c.disconnect();
    }
  });
  after(async () => {
    await source?.stop();
  });

  for (const label of ['redis-7.0 (same RDB version)', 'redis-6.2 (older)']) {
    test(label, async () => {
      const older = label.startsWith('redis-6.2');
      const target = await startRedis(older ? { binary: serverBinary('redis-6.2') } : {});
      try {
        const run = await runRump(connectionOf(source), connectionOf(target), { connectSource: damaging });
        const c = run.counters;
        assert.equal(c.keysRead, 203);
        assert.deepEqual(c.failures.map((f) => String(f.key)).sort(), ['bad:hash', 'bad:string']);
        for (const f of c.failures) {
          assert.match(f.message, older ? /checksum mismatch/ : /DUMP payload version or checksum are wrong/);
        }
        assert.equal(c.keysWritten, 201);
        const t = target.client();
        try {
          assert.equal(await t.dbsize(), 201);
          assert.equal(await t.exists('bad:string', 'bad:hash'), 0);
          assert.equal(await t.get('good:199'), `value 199 ${'x'.repeat(199 % 40)}`);
          assert.deepEqual(await t.hgetall('good:hash'), { f: 'v', g: 'w' });
        } finally {
          t.disconnect();
        }
      } finally {
        await target.stop();
      }
    });
  }
});
