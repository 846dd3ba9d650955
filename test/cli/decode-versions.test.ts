/**
 * Every RDB fixture (Redis 2.8 to 8.0 and Valkey 8), judged by real servers (../shared/servers/build.sh):
 * - `decode --format rdb --target-version 7.0` and `6.2` (RDB 10 and 9: what 5.0-6.2 load too): the file loads
 *   at start-up in a real redis-server of that version and holds exactly the fixture's keys (hash field TTLs and
 *   function libraries of newer files aside, counted on stderr; stream fields the older layout has not, too);
 * - `decode --format resp --target-version 7.0` into the system's 7.0 (hash field TTLs counted on stderr);
 * - `decode --format resp --target-version V | redis-cli --pipe` into a real server of the fixture's own version
 *   (or the next release built here: 4.0 for 3.2, 6.2 for 5.0/6.0) rebuilds the fixture exactly, consumer
 *   seen/active times aside (no command sets them).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import type { KeyRecord } from '../helpers/records.js';
import { serverBinary, type ServerLabel } from '../harness/servers.js';
import { alignFor70, fieldTtlCount, withoutSeenTimes, withoutStreamV2 } from '../restore/helpers.js';
import { redisCliPipe, runCli } from './helpers/run-cli.js';

/** Fixture -> the real server of its version built here (null: the system's redis-server 7.0) and its X.Y. */
const OWN: Record<string, [ServerLabel | null, string]> = {
  'redis-2.8': ['redis-2.8', '2.8'],
  'redis-3.2': ['redis-4.0', '4.0'],
  'redis-4.0': ['redis-4.0', '4.0'],
  'redis-5.0': ['redis-6.2', '6.2'],
  'redis-6.0': ['redis-6.2', '6.2'],
  'redis-6.2': ['redis-6.2', '6.2'],
  'redis-7.0': [null, '7.0'],
  'redis-7.2': ['redis-7.2', '7.2'],
  'redis-7.4': ['redis-7.4', '7.4'],
  'redis-8.0-m01': ['redis-8.0-m01', '7.4'],
  'valkey-8.0': ['valkey-8.0', '7.2'],
};

async function serverOf(label: ServerLabel | null, rdbFile?: string): Promise<RedisServer> {
  if (label === null) return startRedis({ rdbFile });
  return startRedis({ binary: serverBinary(label), rdbFile, before32: label === 'redis-2.8' });
}

async function holds(server: RedisServer): Promise<KeyRecord[]> {
  return readKeyspace({ host: server.host, port: server.port });
}

describe('every fixture converted for, and replayed into, real servers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-versions-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [label, [build, version]] of Object.entries(OWN)) {
    for (const [target, targetBuild] of [
      ['7.0', null],
      ['6.2', 'redis-6.2'],
    ] as const) {
      test(`${label}: --format rdb --target-version ${target} loads in a real ${target}`, async () => {
        const fx = loadExpected(label, { aliveAt: Date.now() });
        const out = join(dir, `${label}-for-${target}.rdb`);
        const r = await runCli(['decode', fx.rdbFile!, '--format', 'rdb', '--target-version', target, '-o', out]);
        assert.equal(r.code, 0, r.stderr);
        const server = await serverOf(targetBuild, out);
        try {
          const aligned = alignFor70(fx.records, await holds(server));
          if (target === '6.2') assertRecordsMatch(withoutStreamV2(aligned.actual), withoutStreamV2(aligned.expected));
          else assertRecordsMatch(aligned.actual, aligned.expected);
        } finally {
          await server.stop();
        }
      });
    }

    test(`${label}: --format resp --target-version 7.0 rebuilds it in 7.0 (field TTLs counted)`, async () => {
      const fx = loadExpected(label, { aliveAt: Date.now() });
      const r = await runCli(['decode', fx.rdbFile!, '--format', 'resp', '--target-version', '7.0']);
      assert.equal(r.code, 0, r.stderr);
      const ttls = fieldTtlCount(fx.records);
      if (ttls > 0) assert.match(r.stderr, new RegExp(`WARNING: ${ttls} hash field TTL\\(s\\)`));
      else assert.doesNotMatch(r.stderr, /WARNING|NOT WRITTEN/);
      const server = await serverOf(null);
      try {
        const piped = await redisCliPipe(server.port, r.stdout);
        assert.equal(piped.errors, 0, piped.output);
        const aligned = alignFor70(fx.records, await holds(server));
        assertRecordsMatch(withoutSeenTimes(aligned.actual), withoutSeenTimes(aligned.expected));
      } finally {
        await server.stop();
      }
    });

    test(`${label}: --format resp --target-version ${version} rebuilds it in a real ${build ?? 'redis-7.0'}`, async () => {
      const fx = loadExpected(label, { aliveAt: Date.now() });
      const r = await runCli(['decode', fx.rdbFile!, '--format', 'resp', '--target-version', version, '-q']);
      assert.equal(r.code, 0, r.stderr);
      const server = await serverOf(build);
      try {
        const piped = await redisCliPipe(server.port, r.stdout);
        assert.equal(piped.errors, 0, piped.output);
        assertRecordsMatch(withoutSeenTimes(await holds(server)), withoutSeenTimes(fx.records));
      } finally {
        await server.stop();
      }
    });
  }
});
