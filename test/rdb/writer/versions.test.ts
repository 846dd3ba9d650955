/**
 * versions.ts against what real servers wrote: every fixture's header and meta (server version, RDB
 * version, the type ids found in the file), and the DUMP footer of the live 7.0 server.
 */
import assert from 'node:assert/strict';
import { openSync, readSync, closeSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  RDB_TYPE,
  canTargetLoad,
  isTypeLoadableBy,
  minRdbVersionForType,
  rdbHeaderFor,
  rdbVersionForRedis,
  rdbVersionForValkey,
} from '@shake/rdb';
import { startRedis } from '../../harness/redis-server.js';
import { fixturesDir, loadExpected } from '../../helpers/load-records.js';

const labels = readdirSync(join(fixturesDir, 'rdb'))
  .filter((f) => f.endsWith('.meta.json'))
  .map((f) => f.replace(/\.meta\.json$/, ''));

function head(file: string): Buffer {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(9);
  readSync(fd, b, 0, 9, 0);
  closeSync(fd);
  return b;
}

describe('versions: RDB versions and loadable types', () => {
  it('fixtures: server version => RDB version, header bytes, type ids loadable by their own version', () => {
    assert.ok(labels.length >= 10, `fixtures found: ${labels.join(',')}`);
    for (const label of labels) {
      const { meta, rdbFile } = loadExpected(label);
      const v = meta.rdb_version!;
      const valkey = typeof meta.valkey_version === 'string' ? meta.valkey_version : null;
      assert.equal(valkey ? rdbVersionForValkey(valkey) : rdbVersionForRedis(meta.redis_version!), v, label);
      assert.equal(head(rdbFile!).toString('latin1'), rdbHeaderFor(v).toString('latin1'), label);
      const scan = meta.rdb_scan as { value_types: Record<string, number> };
      for (const name of Object.keys(scan.value_types)) {
        const type = Number(name.split(' ')[0]);
        const min = minRdbVersionForType(type);
        assert.ok(min !== null && min <= v, `${label}: type ${name} needs ${min}`);
        assert.ok(canTargetLoad(type, v, v), `${label}: type ${name}`);
        // And a server one version older refuses the payload as stamped.
        assert.equal(canTargetLoad(type, v, v - 1), false);
      }
    }
  });

  it('the live 7.0 server stamps DUMP payloads with rdbVersionForRedis(redis_version)', async () => {
    const server = await startRedis();
    const c = server.client();
    try {
      const info = await c.info('server');
      const version = /redis_version:([\d.]+)/.exec(info)![1]!;
      await c.set('k', 'v');
      const payload = (await c.callBuffer('DUMP', 'k')) as Buffer;
      assert.equal(payload.readUInt16LE(payload.length - 10), rdbVersionForRedis(version));
    } finally {
      c.disconnect();
      await server.stop();
    }
  });

  it('release table and loadability rules', () => {
    const redis: [string, number | null][] = [
      ['2.4.0', null],
      ['2.6.17', 6],
      ['2.8.24', 6],
      ['3.0.7', 6],
      ['3.2.13', 7],
      ['4.0.14', 8],
      ['5.0.14', 9],
      ['6.2.16', 9],
      ['7.0.15', 10],
      ['7.2.6', 11],
      ['7.4.1', 12],
      ['7.9.224', 12],
      ['8.0.2', 12],
    ];
    for (const [ver, rdb] of redis) assert.equal(rdbVersionForRedis(ver), rdb, ver);
    assert.equal(rdbVersionForValkey('7.2.5'), 11);
    assert.equal(rdbVersionForValkey('8.1.1'), 11);
    assert.equal(rdbVersionForValkey('9.0.0'), 80);
    assert.equal(rdbHeaderFor(80).toString('latin1'), 'VALKEY080');
    assert.equal(rdbHeaderFor(9).toString('latin1'), 'REDIS0009');

    assert.equal(canTargetLoad(RDB_TYPE.STREAM_LISTPACKS_3, 11, 10), false);
    assert.equal(isTypeLoadableBy(RDB_TYPE.STREAM_LISTPACKS_3, 11, 10), false);
    assert.equal(canTargetLoad(RDB_TYPE.LIST_QUICKLIST_2, 10, 12), true);
    assert.equal(canTargetLoad(RDB_TYPE.HASH_LISTPACK, 11, 10), false, 'stamped newer than the target');
    assert.equal(isTypeLoadableBy(RDB_TYPE.HASH_LISTPACK, 11, 10), true, 'but relabel makes it loadable');
    assert.equal(canTargetLoad(RDB_TYPE.MODULE_PRE_GA, 8, 12), false);
    // Valkey 9: refuses Redis 7.4+ payloads (foreign range) and the Redis field-TTL types.
    assert.equal(canTargetLoad(RDB_TYPE.STRING, 12, 80), false);
    assert.equal(canTargetLoad(RDB_TYPE.STRING, 11, 80), true);
    assert.equal(isTypeLoadableBy(RDB_TYPE.HASH_METADATA, 12, 80), false);
    assert.equal(canTargetLoad(RDB_TYPE.STRING, 80, 12), false);
    assert.equal(isTypeLoadableBy(22, 80, 12), false, 'Valkey 9 id 22 is not Redis pre-GA 22');
  });
});
