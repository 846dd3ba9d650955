/**
 * Runs one restore in a child process and prints what it did plus its peak RSS, so memory tests measure
 * the restore alone: node restore-child.js <input> <host> <port> <bigKeyThreshold> [connections]
 * (SHAKE_CHILD_LOAD=replication: restore --load replication)
 */
import { openTarget } from '../../../src/sinks/redis/open-target.js';
import { restore, type LoadMode } from '../../../src/pipelines/restore.js';

const [input, host, port, threshold, connections] = process.argv.slice(2);
const started = Date.now();
const target = await openTarget({
  connection: { host: host as string, port: Number(port) },
  connections: connections ? Number(connections) : undefined,
});
try {
  const run = await restore({
    input: { path: input as string },
    target,
    bigKeyThreshold: Number(threshold),
    onConflict: 'replace',
    functions: 'replace',
    // SHAKE_CHILD_LOAD=replication: the target loads the file itself (restore --load replication).
    load: (process.env.SHAKE_CHILD_LOAD as LoadMode | undefined) ?? 'commands',
    connLimits: {
      batchCommands: Number(process.env.SHAKE_CHILD_BATCH ?? 1000),
      batchBytes: 1 << 20,
      maxInflightBatches: Number(process.env.SHAKE_CHILD_INFLIGHT ?? 4),
    },
  });
  process.stdout.write(
    JSON.stringify({
      ms: Date.now() - started,
      cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
      maxRssKb: process.resourceUsage().maxRSS,
      counters: run.counters.toJSON(),
      stats: run.stats,
    }) + '\n',
  );
} finally {
  await target.close();
}
