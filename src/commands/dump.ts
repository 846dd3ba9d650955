import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../cli/base-command.js';
import { formatBytes } from '../cli/progress.js';
import { DumpProgress, runDump, type DumpMode, type NodeDumpResult } from '../pipelines/dump.js';
import { connectionFromSection } from '../redis/endpoint.js';
import { dumpJson } from '../pipelines/json-summary.js';
import { SHARD_KEYS, SOURCE_KEYS, shardFlags, shardSetting, sourceFlags } from '../cli/endpoint-flags.js';

export default class Dump extends BaseCommand<typeof Dump> {
  static override summary = 'Save an RDB file of a live Redis: as a replica (PSYNC/SYNC), or with SCAN + DUMP.';
  static override description =
    'Replication mode receives the snapshot a replica would get (disk or diskless) and checks its CRC64; scan ' +
    'mode (or the automatic fallback where SYNC/PSYNC are refused, as on AWS ElastiCache) rebuilds the file ' +
    'from DUMP payloads. A cluster gives one file per master plus a manifest that `shake restore` reads. ' +
    'See docs/dump.md.';
  static override examples = [
    '<%= config.bin %> dump --source redis://127.0.0.1:6379 -o dump.rdb',
    'SHAKE_SOURCE_PASSWORD=secret <%= config.bin %> dump --source rediss://user@host:6380 -o dump.rdb --mode scan',
    '<%= config.bin %> dump --source redis://127.0.0.1:7000 -o backup/dump.rdb   # cluster: backup/dump.manifest.json',
  ];

  static override flags = {
    ...sourceFlags,
    ...shardFlags,
    output: Flags.string({
      char: 'o',
      summary: 'RDB file to write, - for standard output (for a cluster: the stem of the per-node files).',
      required: true,
    }),
    mode: Flags.string({ options: ['auto', 'replication', 'scan'], summary: 'Default auto: replication, else scan.' }),
    db: Flags.integer({ multiple: true, min: 0, summary: 'Only this db (repeatable; scan mode).' }),
    'timeout-ms': Flags.integer({ min: 1, summary: 'Replication idle timeout (default 60000).' }),
    'scan-count': Flags.integer({ min: 1, summary: 'SCAN COUNT and DUMP batch size (default 1000).' }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const { values, names } = this.flagSettings({
      ...SOURCE_KEYS,
      ...SHARD_KEYS,
      ...SHARD_KEYS,
      'dump.mode': 'mode',
      'dump.timeout_ms': 'timeout-ms',
      'dump.scan_count': 'scan-count',
    });
    const { config } = this.loadConfig(values, names);
    this.requireEndpoint(config, 'source');
    this.jsonNeedsStdout('write the RDB to a file (-o FILE), not -', f.output === '-');
    const d = config.dump;
    const progress = new DumpProgress();
    this.board.gauges = () => ({ dump_bytes_written: progress.bytes, dump_keys_written: progress.keys ?? 0 });
    const stopProgress = this.startProgress(
      {
        done: () => progress.bytes,
        total: () => progress.total,
        keys: () => progress.keys,
        waiting: () => progress.waiting,
      },
      config.log.progress,
    );
    let result;
    try {
      result = await runDump({
        connection: connectionFromSection(config.source, 'source'),
        shard: shardSetting(config),
        output: f.output,
        mode: d.mode as DumpMode,
        dbs: f.db,
        timeoutMs: d.timeout_ms,
        scanCount: d.scan_count,
        rdbOnly: d.rdb_only,
        fsync: d.fsync,
        progress,
        signal: this.abort.signal,
        onNotice: (m) => this.notice(m),
      });
    } finally {
      stopProgress();
    }
    for (const n of result.nodes) this.note(describeNode(n));
    this.jsonSummary = dumpJson(result);
    if (result.manifest) this.note(`manifest: ${result.manifest} (${result.nodes.length} masters)`);
    if (result.interrupted) this.exitFailed('interrupted: no file was written for the unfinished dumps');
  }
}

function describeNode(n: NodeDumpResult): string {
  const secs = n.elapsedMs / 1000;
  const rate = `${formatBytes(n.bytes / Math.max(secs, 0.001))}/s`;
  const how =
    n.mode === 'replication'
      ? `replication (${n.form === 'diskless' ? 'diskless' : 'disk'} snapshot, CRC64 checked)`
      : `SCAN + DUMP (${n.keys ?? 0} keys${skippedText(n)})`;
  return `${n.host}:${n.port} -> ${n.path}: ${formatBytes(n.bytes)} RDB ${n.rdbVersion ?? '?'} via ${how} in ${secs.toFixed(2)} s (${rate})`;
}

function skippedText(n: NodeDumpResult): string {
  const parts = [...n.counters.skipped].map(([reason, count]) => `${count} ${reason}`);
  return parts.length > 0 ? `; skipped: ${parts.join(', ')}` : '';
}
