/**
 * What a new user meets with a mistyped command line (issue 14): one `error:` line that says what to do, exit 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './helpers/run-cli.js';

const oneError = (stderr: string): string => {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] as string, /^error: /);
  return lines[0] as string;
};

test('--password points at the environment and the config file', async () => {
  const r = await runCli(['restore', 'x.rdb', '--target-password', 'pw']);
  assert.equal(r.code, 1);
  assert.match(oneError(r.stderr), /--target-password: a password is not a flag; set SHAKE_TARGET_PASSWORD/);
});

test('host:port where a URL belongs: the expected form and the URL it meant', async () => {
  const r = await runCli(['restore', 'x.rdb', '--target', '127.0.0.1:21002']);
  assert.equal(r.code, 1);
  assert.match(
    oneError(r.stderr),
    /expected redis:\/\/\[user@\]host:port\[\/db\].*e\.g\. redis:\/\/127\.0\.0\.1:21002$/,
  );
});

test('a bad --key-regex names the flag', async () => {
  const r = await runCli(['decode', 'examples/sample.rdb', '--key-regex', '(']);
  assert.equal(r.code, 1);
  assert.match(oneError(r.stderr), /^error: --key-regex: Invalid regular expression/);
});

test('a missing required flag in our words', async () => {
  const r = await runCli(['dump', '--source', 'redis://127.0.0.1:1']);
  assert.equal(r.code, 1);
  assert.equal(oneError(r.stderr), 'error: missing --output (see --help)');
});

test('--top with another --format: refused in one line, not a memory report printed as something else', async () => {
  const r = await runCli(['decode', 'examples/sample.rdb', '--top', '5', '--format', 'jsonl']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout.length, 0);
  assert.equal(oneError(r.stderr), 'error: --top is a memory report (--format memory); it cannot print --format jsonl');
  const ok = await runCli(['decode', 'examples/sample.rdb', '--top', '5', '--format', 'memory']);
  assert.equal(ok.code, 0, ok.stderr);
});

test('--info and --top summarize: the summary does not claim keys were written', async () => {
  const info = await runCli(['decode', 'examples/sample.rdb', '--info']);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stderr, /^\d+ keys read, summarized \(--info\); /m);
  assert.doesNotMatch(info.stderr, /written/);
  const top = await runCli(['decode', 'examples/sample.rdb', '--top', '3']);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stderr, /^\d+ keys read, the 3 biggest reported \(--top\); /m);
  assert.doesNotMatch(top.stderr, /written/);
});

test('the usage offers --no-expired (which works), not an --expired that does nothing', async () => {
  const help = await runCli(['decode', '--help']);
  assert.match(help.stdout.toString(), /--no-expired/);
  assert.doesNotMatch(help.stdout.toString(), /\[--expired\]/);
  const r = await runCli(['decode', 'examples/sample.rdb', '--expired']);
  assert.equal(r.code, 1);
  assert.match(oneError(r.stderr), /--expired/);
});
