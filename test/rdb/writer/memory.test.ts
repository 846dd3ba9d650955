/**
 * Memory: a 2M-field hash is written to a file with the count known up front, so it streams: the RSS
 * growth of the writing process stays far below the size of the file. The file is then loaded into
 * redis-server 7.0 (which verifies its CRC64 and every length) and spot-checked.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startRedis } from '../../harness/redis-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIELDS = 2_000_000;
const VALUE_BYTES = 48;

describe('writer: memory stays bounded while streaming a big hash', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'shake-writer-mem-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`${FIELDS} fields: RSS growth bounded, file checks and loads`, async () => {
    const file = join(dir, 'big-hash.rdb');
    const child = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '--max-semi-space-size=8',
        join(here, 'memory-child.js'),
        file,
        String(FIELDS),
        String(VALUE_BYTES),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    assert.equal(child.status, 0, child.stderr);
    const r = JSON.parse(child.stdout) as { baseline: number; peak: number; bytes: number };
    const growthMb = (r.peak - r.baseline) / 2 ** 20;
    const fileMb = statSync(file).size / 2 ** 20;
    console.log(`# file ${fileMb.toFixed(1)} MiB, RSS growth ${growthMb.toFixed(1)} MiB`);
    assert.equal(r.bytes, statSync(file).size);
    assert.ok(fileMb > 100, `the file is big enough to matter: ${fileMb} MiB`);
    assert.ok(growthMb < 64, `RSS growth ${growthMb.toFixed(1)} MiB for a ${fileMb.toFixed(1)} MiB file`);

    const server = await startRedis({ rdbFile: file });
    const c = server.client();
    try {
      assert.equal(await c.hlen('big:hash'), FIELDS);
      for (const j of [0, 1, 1023, 1024, 999_999, FIELDS - 1]) {
        assert.equal(await c.hget('big:hash', `field:${j}`), `${j}:${'v'.repeat(VALUE_BYTES)}`);
      }
    } finally {
      c.disconnect();
      await server.stop();
    }
  });
});
