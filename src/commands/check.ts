import { existsSync } from 'node:fs';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../cli/base-command.js';
import { openReport } from '../check/report.js';
import { checkSummaryLines } from '../pipelines/check-report.js';
import { checkJson } from '../pipelines/json-summary.js';
import { CheckStats } from '../check/stats.js';
import { checkSettings, runCheck, type CheckOptions } from '../pipelines/check.js';
import { excludeFlags, keySelection, selectFlags } from '../cli/key-flags.js';
import {
  SHARD_KEYS,
  SOURCE_KEYS,
  TARGET_KEYS,
  shardFlags,
  shardSetting,
  tlsFlags,
  tlsSettings,
} from '../cli/endpoint-flags.js';
import { connectionFromSection } from '../redis/endpoint.js';
import { parseDbMap } from '../sinks/redis/db-map.js';

export default class Check extends BaseCommand<typeof Check> {
  /** Could not check: exit 2 (1 means "differences found"). */
  protected override errorExitCode = 2;
  static override summary = 'Verify that a target holds exactly what the source holds: keys, types, values, TTLs.';
  static override description =
    'The source is a live Redis (standalone or cluster), an RDB file or a shake dump manifest; the target standalone, cluster or proxy. ' +
    'Exit 0: equal; 1: differences found; 2: could not check. See docs/check.md.';
  static override examples = [
    '<%= config.bin %> check --source redis://10.0.0.5:6379 --target redis://127.0.0.1:6380 --report diff.jsonl',
    '<%= config.bin %> check --source dump.rdb --target redis://127.0.0.1:6380',
    '<%= config.bin %> check --source redis://127.0.0.1:7000 --target redis://127.0.0.1:6380 --db-map "*:0" --report -',
  ];

  static override flags = {
    source: Flags.string({
      char: 's',
      summary: 'Source: redis://host:port (rediss:// for TLS), an RDB file, or a dump manifest.',
    }),
    'source-user': Flags.string({ summary: 'Source ACL user (password: SHAKE_SOURCE_PASSWORD or the config).' }),
    target: Flags.string({ char: 't', summary: 'Target URL: redis://[user@]host:port, rediss:// for TLS.' }),
    'target-user': Flags.string({ summary: 'Target ACL user (password: SHAKE_TARGET_PASSWORD or the config).' }),
    ...shardFlags,
    'target-type': Flags.string({ options: ['auto', 'standalone', 'cluster', 'proxy'], summary: 'Default: detect.' }),
    'source-read': Flags.string({
      options: ['auto', 'replication', 'scan'],
      summary:
        'Read a live source as a replica (one RDB per master) or by SCAN (default auto: replication, else SCAN).',
    }),
    'target-read': Flags.string({
      options: ['auto', 'replication', 'commands'],
      summary:
        'With a replicated or file source, read the target as a replica too and join both by key (default auto: else per-key commands).',
    }),
    report: Flags.string({ char: 'r', summary: 'Write one JSON line per difference to this file (- for stdout).' }),
    rounds: Flags.integer({ min: 0, summary: 'Re-check rounds for keys that differ (default 2; 0: none).' }),
    'interval-ms': Flags.integer({ min: 0, summary: 'Milliseconds between re-check rounds (default 1000).' }),
    extra: Flags.boolean({ allowNo: true, summary: 'Scan the target for keys the source lacks (default on).' }),
    functions: Flags.boolean({ allowNo: true, summary: 'Compare function libraries (default on).' }),
    ...selectFlags,
    ...excludeFlags,
    match: Flags.string({ summary: 'SCAN MATCH pattern (Redis glob).' }),
    'db-map': Flags.string({ summary: 'Source db -> target db as the copy used, e.g. 0:5,1:6 or *:0.' }),
    count: Flags.integer({ min: 1, summary: 'SCAN COUNT and keys per page (default 1000).' }),
    'big-key-threshold': Flags.string({ summary: 'Keys using more memory are compared in chunks (default 8mb).' }),
    'ttl-tolerance-ms': Flags.integer({ min: 0, summary: 'TTL tolerance where a side lacks PEXPIRETIME (1000).' }),
    rate: Flags.integer({ min: 0, summary: 'Keys/s read from each source master (default 0 = unlimited).' }),
    'rate-bytes': Flags.string({ summary: 'Bytes/s read from each source master, e.g. 50mb (default 0 = off).' }),
    ...tlsFlags,
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const isUrl = f.source !== undefined && /^rediss?:\/\//.test(f.source);
    const { values, names } = this.flagSettings(FLAG_KEYS);
    if (!isUrl) values['source.url'] = undefined; // an RDB file or a manifest
    const tls = tlsSettings(this.loadConfig(values, names).config, f);
    const { config } = this.loadConfig({ ...values, ...tls.values }, { ...names, ...tls.names });
    const file = f.source !== undefined && !isUrl ? f.source : undefined;
    if (file !== undefined && !existsSync(file)) this.fail(`--source ${file}: no such file (and not a redis:// URL)`);
    if (file === undefined && !config.source.url) {
      this.fail('give the source with --source redis://host:port or --source FILE.rdb (or [source] url)');
    }
    if (!config.target.url) this.fail('give the target with --target redis://host:port (or [target] url)');
    const targetConn = connectionFromSection(config.target, 'target');
    const dbMap = parseDbMap(config.restore.db_map);
    if (targetConn.db && config.restore.db_map === '') dbMap.rest = targetConn.db;
    const sourceConn = file === undefined ? connectionFromSection(config.source, 'source') : null;
    this.jsonNeedsStdout('write the report to a file (--report FILE), not -', f.report === '-');
    const report = openReport(f.report);
    const opts: CheckOptions = {
      source: sourceConn ?? { rdbFile: file! },
      target: targetConn,
      targetKind: config.target.type === 'auto' ? undefined : config.target.type,
      shard: shardSetting(config),
      ...keySelection(f),
      dbs: f.db ?? (sourceConn?.db !== undefined ? [sourceConn.db] : undefined),
      match: f.match,
      dbMap,
      ...checkSettings(config.check),
      replicationTimeoutMs: config.dump.timeout_ms,
      onDifference: (d) => report.write(d),
      onNotice: (m) => this.notice(m),
      signal: this.abort.signal,
    };
    const stats = new CheckStats();
    opts.stats = stats;
    this.board.gauges = () => ({
      check_keys_compared: stats.compared,
      check_keys_equal: stats.equal,
      check_keys_differing: [...stats.found.values()].reduce((a, b) => a + b, 0),
      check_target_keys_scanned: stats.targetScanned,
      check_bytes_read: stats.bytesRead,
      check_rounds: stats.rounds,
    });
    const stopProgress = this.startProgress(
      {
        done: () => stats.bytesRead,
        total: () => null,
        keys: () => stats.compared,
        detail: () =>
          `${stats.compared.toLocaleString('en-US')} keys compared, ${CheckStats.kinds(stats.found)} ` +
          `differing so far${stats.rounds > 0 ? `, re-check round ${stats.rounds}` : ''}`,
      },
      config.log.progress,
    );
    const summary = await runCheck(opts).finally(() => {
      stopProgress();
      return report.close();
    });
    for (const line of checkSummaryLines(summary)) this.note(line);
    this.jsonSummary = checkJson(summary);
    if (summary.interrupted) this.exit(2);
    if (summary.exitCode !== 0) this.exit(summary.exitCode);
  }

  private fail(message: string): never {
    this.error(message, { exit: 2 });
  }
}

/** Each flag and the config key it sets (`section.key` -> flag), once. */
const FLAG_KEYS: Record<string, string> = {
  ...SOURCE_KEYS,
  ...SHARD_KEYS,
  ...TARGET_KEYS,
  'check.source_read': 'source-read',
  'check.target_read': 'target-read',
  'check.rounds': 'rounds',
  'check.interval_ms': 'interval-ms',
  'check.extra': 'extra',
  'check.functions': 'functions',
  'check.scan_count': 'count',
  'check.big_key_threshold': 'big-key-threshold',
  'check.ttl_tolerance_ms': 'ttl-tolerance-ms',
  'check.rate': 'rate',
  'check.rate_bytes': 'rate-bytes',
  'restore.db_map': 'db-map',
};
