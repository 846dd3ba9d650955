/**
 * Runs one check in a child process and prints its summary plus its peak RSS, so memory tests measure the check
 * alone: node check-child.js <source host:port> <target host:port> <bigKeyThreshold> <sourceRead> [targetRead]
 */
import { runCheck, type SourceRead, type TargetRead } from '../../../src/pipelines/check.js';
import type { Difference } from '../../../src/check/problems.js';

const [source, target, threshold, sourceRead, targetRead] = process.argv.slice(2) as [
  string,
  string,
  string,
  SourceRead,
  TargetRead | undefined,
];
const at = (a: string): { host: string; port: number } => ({ host: a.split(':')[0]!, port: Number(a.split(':')[1]) });
const diffs: Difference[] = [];
const s = await runCheck({
  source: at(source),
  target: at(target),
  rounds: 0,
  bigKeyThreshold: Number(threshold),
  sourceRead,
  targetRead,
  onDifference: (d) => diffs.push(d),
});
process.stdout.write(
  JSON.stringify({
    maxRssKb: process.resourceUsage().maxRSS,
    compared: s.stats.compared,
    bigKeys: s.stats.bigKeys,
    snapshots: s.stats.snapshots,
    targetSnapshots: s.stats.targetSnapshots,
    diffs: diffs.map((d) => ({ key: d.key?.toString('latin1'), problem: d.problem, detail: d.detail })),
  }) + '\n',
);
