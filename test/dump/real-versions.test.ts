/**
 * shake dump from real servers of every version built here (../shared/servers/build.sh), each started on its own
 * fixture RDB: in replication mode (SYNC on 2.8, PSYNC after; the master's own snapshot) and in scan mode (SCAN +
 * DUMP). The dumped file, loaded at start-up by a server of the same version, holds exactly what the source held.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startRedis } from '../harness/redis-server.js';
import { serverBinary, type ServerLabel } from '../harness/servers.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { loadExpected } from '../helpers/load-records.js';
import type { KeyRecord } from '../helpers/records.js';
import { runDump } from '../../src/pipelines/dump.js';

const LABELS: ServerLabel[] = [
  'redis-2.8',
  'redis-4.0',
  'redis-6.2',
  'redis-7.2',
  'redis-7.4',
  'redis-8.0-m01',
  'valkey-8.0',
];

describe('dump from real servers of each version', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shake-dump-versions-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const label of LABELS) {
    for (const mode of ['replication', 'scan'] as const) {
      test(`${label} --mode ${mode}`, async () => {
        const fx = loadExpected(label);
        const opts = { binary: serverBinary(label), before32: label === 'redis-2.8' };
        const source = await startRedis({ ...opts, rdbFile: fx.rdbFile, config: { 'repl-diskless-sync-delay': '0' } });
        const out = join(dir, `${label}-${mode}.rdb`);
        // The reference is what the source holds (keys the fixture has already expired by the server's clock gone).
        let reference: KeyRecord[];
        try {
          reference = await readKeyspace({ host: source.host, port: source.port });
          assert.ok(reference.length > fx.total / 2);
          const r = await runDump({ connection: { host: source.host, port: source.port }, output: out, mode });
          assert.equal(r.nodes.length, 1);
        } finally {
          await source.stop();
        }
        const copy = await startRedis({ ...opts, rdbFile: out });
        try {
          assertRecordsMatch(await readKeyspace({ host: copy.host, port: copy.port }), reference);
        } finally {
          await copy.stop();
        }
      });
    }
  }
});
