/**
 * `shake help` and `shake help <subcommand>` (issue: both were "command help not found"): the same text oclif
 * prints for `--help`, exit 0, and every subcommand listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './helpers/run-cli.js';

test('shake help lists every subcommand; shake help <cmd> equals <cmd> --help', async () => {
  const top = await runCli(['help']);
  assert.equal(top.code, 0, top.stderr);
  for (const cmd of ['decode', 'restore', 'dump', 'sync', 'rump'])
    assert.match(top.stdout.toString(), new RegExp(`\\n  ${cmd} `));
  const viaHelp = await runCli(['help', 'restore']);
  const viaFlag = await runCli(['restore', '--help']);
  assert.equal(viaHelp.code, 0, viaHelp.stderr);
  assert.equal(viaHelp.stdout.toString(), viaFlag.stdout.toString());
  assert.match(viaHelp.stdout.toString(), /USAGE\n {2}\$ shake restore/);
});
