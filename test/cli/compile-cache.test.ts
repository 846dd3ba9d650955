/**
 * bin/compile-cache.js: V8's compiled code of CommonJS modules kept between runs, one entry per module. A module is
 * loaded in fresh Node processes from a scratch root: the first run writes its entry, the next one uses it; an entry
 * corrupted or left by another version of the module never changes what runs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/load-records.js';

const cacheModule = pathToFileURL(join(repoRoot, 'bin', 'compile-cache.js')).href;

/** Loads root/dist/bundle/m.cjs with the cache on, in a new process; returns what it printed. */
function run(root: string): string {
  const script =
    `const { enableCompileCache } = await import(${JSON.stringify(cacheModule)});` +
    `enableCompileCache(${JSON.stringify(root)});` +
    `const { createRequire } = await import('node:module');` +
    `console.log(createRequire(import.meta.url)(${JSON.stringify(join(root, 'dist', 'bundle', 'm.cjs'))}).answer());`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

function entries(root: string): string[] {
  const top = join(root, 'dist', '.compile-cache');
  return readdirSync(top).flatMap((v) => readdirSync(join(top, v)).map((f) => join(top, v, f)));
}

describe('the compile cache (bin/compile-cache.js)', () => {
  it('writes an entry, uses it, and never runs stale or damaged code', () => {
    const root = mkdtempSync(join(tmpdir(), 'shake-cc-'));
    try {
      mkdirSync(join(root, 'dist', 'bundle'), { recursive: true });
      const mod = join(root, 'dist', 'bundle', 'm.cjs');
      const body = (n: number): string =>
        `function inner(x) { return x * ${n}; }\nexports.answer = () => inner(6) + ':' + ${JSON.stringify('v' + n)};\n`;
      writeFileSync(mod, body(7));
      utimesSync(mod, 1_000_000, 1_000_000);
      assert.equal(run(root), '42:v7');
      const [entry] = entries(root);
      assert.ok(entry, 'an entry was written');
      const first = readFileSync(entry);
      assert.equal(run(root), '42:v7');
      assert.deepEqual(readFileSync(entry), first, 'a run that used the entry leaves it as it was');

      // Same size, other code, other mtime: the entry is for another version of the module.
      writeFileSync(mod, body(8));
      utimesSync(mod, 2_000_000, 2_000_000);
      assert.equal(run(root), '48:v8');
      assert.notDeepEqual(readFileSync(entry), first, 'rewritten for the new version');

      // Damaged data under the right key: V8 rejects it, the module is compiled as usual.
      const damaged = Buffer.from(readFileSync(entry));
      for (let i = damaged.length - 64; i < damaged.length; i++) damaged[i] = damaged[i]! ^ 0x5a;
      writeFileSync(entry, damaged);
      assert.equal(run(root), '48:v8');
      writeFileSync(entry, Buffer.from([1, 2]));
      assert.equal(run(root), '48:v8', 'a truncated entry is ignored');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
