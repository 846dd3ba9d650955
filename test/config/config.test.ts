/**
 * Configuration: schema defaults < INI file < environment < flags, one-line errors naming the key, the
 * value and what is allowed, passwords refused on the command line, and conf/shake.conf /
 * docs/configuration.md kept in step with the schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { configSchema, defaultConfig, SECTIONS, sectionKeys } from '../../src/config/schema.js';
import { loadExpected, repoRoot } from '../helpers/load-records.js';
import { runCli } from '../cli/helpers/run-cli.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'shake-config-'));
}

function withFile(text: string, fn: (dir: string, file: string) => void): void {
  const dir = tmp();
  try {
    const file = join(dir, 'x.conf');
    writeFileSync(file, text);
    fn(dir, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

test('defaults: no file, no env, no flags', () => {
  const dir = tmp();
  try {
    const { config, file } = loadConfig({ cwd: dir, env: {} });
    assert.equal(file, null);
    assert.deepEqual(config, defaultConfig());
    assert.equal(config.decode.format, 'jsonl');
    assert.equal(config.restore.on_conflict, 'error');
    assert.equal(typeof config.restore.big_key_threshold, 'number');
    assert.equal(config.source.tls_insecure, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file: --config FILE, else ./shake.conf; values coerced by the schema', () => {
  const text =
    '[restore]\non_conflict = replace\nbig_key_threshold = 64mb\n[source]\nurl = redis://h:1\ntls_insecure = yes\n';
  withFile(text, (dir, file) => {
    const { config } = loadConfig({ configPath: file, cwd: dir, env: {} });
    assert.equal(config.restore.on_conflict, 'replace');
    assert.equal(config.restore.big_key_threshold, 64 * 1024 * 1024);
    assert.equal(config.source.url, 'redis://h:1');
    assert.equal(config.source.tls_insecure, true);
    writeFileSync(join(dir, 'shake.conf'), '[decode]\nformat = keys\n');
    const implicit = loadConfig({ cwd: dir, env: {} });
    assert.equal(implicit.file, join(dir, 'shake.conf'));
    assert.equal(implicit.config.decode.format, 'keys');
  });
});

test('precedence: flags > env > file > defaults', () => {
  withFile('[decode]\nformat = keys\nresp_batch = 10\nbatch_size = 7\n', (dir, file) => {
    const env = { SHAKE_DECODE_FORMAT: 'resp', SHAKE_DECODE_RESP_BATCH: '20', SHAKE_TARGET_PASSWORD: 's3cret' };
    const { config } = loadConfig({ configPath: file, cwd: dir, env, flags: { 'decode.format': 'memory' } });
    assert.equal(config.decode.format, 'memory');
    assert.equal(config.decode.resp_batch, 20);
    assert.equal(config.decode.batch_size, 7);
    assert.equal(config.decode.strings, 'auto');
    assert.equal(config.target.password, 's3cret');
  });
});

test('other SHAKE_* variables (not a section) are ignored', () => {
  const { config } = loadConfig({ cwd: tmp(), env: { SHAKE_TEST_CONCURRENCY: '4', SHAKE_FIXTURES: '/x' } });
  assert.deepEqual(config, defaultConfig());
});

test('bad values: one line naming the key, the value, what is allowed and where it came from', () => {
  withFile('[restore]\non_conflict = maybe\n', (dir, file) => {
    const msg = configError(() => loadConfig({ configPath: file, cwd: dir, env: {} }));
    assert.equal(msg, `restore.on_conflict: "maybe" is not one of replace, skip, error (in ${file})`);
  });
  assert.equal(
    configError(() => loadConfig({ cwd: tmp(), env: { SHAKE_SOURCE_TLS: 'perhaps' } })),
    'source.tls: "perhaps" is not a boolean (yes/no, true/false, on/off, 1/0) (from SHAKE_SOURCE_TLS)',
  );
  assert.equal(
    configError(() =>
      loadConfig({
        cwd: tmp(),
        env: {},
        flags: { 'decode.resp_batch': 0 },
        flagNames: { 'decode.resp_batch': '--resp-batch' },
      }),
    ),
    'decode.resp_batch: 0 is less than 1 (from --resp-batch)',
  );
  assert.match(
    configError(() => loadConfig({ cwd: tmp(), env: { SHAKE_RESTORE_PIPELINE: 'lots' } })),
    /^restore\.pipeline: "lots" is not an integer/,
  );
  assert.match(
    configError(() => loadConfig({ cwd: tmp(), env: { SHAKE_RESTORE_BIG_KEY_THRESHOLD: '12 parsecs' } })),
    /^restore\.big_key_threshold: "12 parsecs" is not a size/,
  );
});

test('unknown keys and sections, keys outside a section, a missing --config file', () => {
  withFile('[source]\nurll = x\n', (dir, file) => {
    assert.match(
      configError(() => loadConfig({ configPath: file, cwd: dir, env: {} })),
      /^source\.urll: unknown key .*known in \[source\]: url, /,
    );
  });
  withFile('[nosuch]\na = 1\n', (dir, file) => {
    assert.match(
      configError(() => loadConfig({ configPath: file, cwd: dir, env: {} })),
      /\[nosuch\] is not a known section/,
    );
  });
  withFile('url = x\n[source]\n', (dir, file) => {
    assert.match(
      configError(() => loadConfig({ configPath: file, cwd: dir, env: {} })),
      /outside a section/,
    );
  });
  assert.match(
    configError(() => loadConfig({ cwd: tmp(), env: { SHAKE_LOG_COLOUR: 'red' } })),
    /^log\.colour: unknown key/,
  );
  assert.match(
    configError(() => loadConfig({ configPath: '/nonexistent/shake.conf', env: {} })),
    /does not exist/,
  );
});

test('passwords are refused as flags', () => {
  const msg = configError(() =>
    loadConfig({
      cwd: tmp(),
      env: {},
      flags: { 'source.password': 'x' },
      flagNames: { 'source.password': '--source-password' },
    }),
  );
  assert.match(msg, /source\.password cannot be given on the command line .*SHAKE_SOURCE_PASSWORD/);
});

test('conf/shake.conf lists every key, commented, with its default', () => {
  const text = readFileSync(join(repoRoot, 'conf', 'shake.conf'), 'utf8');
  // loading the file as shipped (all commented) gives the defaults
  withFile(text, (dir, file) =>
    assert.deepEqual(loadConfig({ configPath: file, cwd: dir, env: {} }).config, defaultConfig()),
  );
  // uncommenting every `; key = value` line still gives the defaults, and covers every key
  const uncommented = text
    .split('\n')
    .map((l) => l.replace(/^;\s*([a-z_]+\s*=.*)$/, '$1'))
    .join('\n');
  withFile(uncommented, (dir, file) =>
    assert.deepEqual(loadConfig({ configPath: file, cwd: dir, env: {} }).config, defaultConfig()),
  );
  for (const section of SECTIONS) {
    const body = text.split(`[${section}]`)[1]?.split(/^\[/m)[0] ?? '';
    for (const key of sectionKeys(section))
      assert.match(body, new RegExp(`^; ${key} =`, 'm'), `${section}.${key} in conf/shake.conf`);
  }
  assert.ok(configSchema.shape.restore);
});

test('docs/configuration.md documents every key', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'configuration.md'), 'utf8');
  for (const section of SECTIONS)
    for (const key of sectionKeys(section)) assert.ok(doc.includes(`${section}.${key}`), `${section}.${key}`);
});

test('the CLI: env changes the format, a flag beats it, a bad value is one line and exit 1', async () => {
  const rdb = loadExpected('redis-2.8').rdbFile ?? '';
  const viaEnv = await runCli(['decode', rdb, '-q'], { env: { SHAKE_DECODE_FORMAT: 'keys' } });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.ok(!viaEnv.stdout.toString('latin1').startsWith('{'));
  const flag = await runCli(['decode', rdb, '-q', '--format', 'jsonl'], { env: { SHAKE_DECODE_FORMAT: 'keys' } });
  assert.ok(flag.stdout.toString('latin1').startsWith('{'));
  const bad = await runCli(['decode', rdb], { env: { SHAKE_DECODE_STRINGS: 'hex' } });
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr,
    'error: config: decode.strings: "hex" is not one of auto, base64 (from SHAKE_DECODE_STRINGS)\n',
  );
});
