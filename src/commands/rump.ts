import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../cli/base-command.js';
import { failureLine, summaryLine } from '../cli/summary.js';
import { Counters } from '../core/counters.js';
import { checkSettings, verifyCopy } from '../pipelines/verify.js';
import { connectionFromSection } from '../redis/endpoint.js';
import { rumpReport } from '../pipelines/rump-report.js';
import { checkJson, rumpJson } from '../pipelines/json-summary.js';
import { rump, type RumpResult } from '../pipelines/rump.js';
import { RateMeter, RumpStats, keysScanned, progressLine } from '../rump/stats.js';
import { parseDbMap } from '../sinks/redis/db-map.js';
import { openTarget } from '../sinks/redis/open-target.js';
import { connLimitsOf } from '../sinks/redis/conn-writer.js';
import { excludeFlags, keySelection, selectFlags } from '../cli/key-flags.js';
import {
  SHARD_KEYS,
  SOURCE_KEYS,
  shardFlags,
  shardSetting,
  TARGET_KEYS,
  WRITE_KEYS,
  sourceFlags,
  targetFlags,
  tlsFlags,
  tlsSettings,
  writeFlags,
} from '../cli/endpoint-flags.js';

export default class Rump extends BaseCommand<typeof Rump> {
  static override summary =
    'Copy a live Redis to another with SCAN + DUMP/RESTORE, rate limited; --live keeps following it.';
  static override description =
    'Needs no SYNC, PSYNC, BGSAVE, CONFIG or KEYS on the source, so it works on AWS ElastiCache and other ' +
    'managed services. Standalone or cluster on either side. See docs/rump.md for the guarantees of --live.';
  static override examples = [
    '<%= config.bin %> rump --source redis://10.0.0.5:6379 --target redis://127.0.0.1:6380',
    'SHAKE_SOURCE_PASSWORD=secret <%= config.bin %> rump --source rediss://copier@prod.cache.amazonaws.com:6379 --tls-ca ca.pem --target redis://127.0.0.1:6380 --live',
    '<%= config.bin %> rump --source redis://127.0.0.1:7000 --target redis://127.0.0.1:7100 --prefer-replica --rate 50000',
    '<%= config.bin %> rump --source redis://h:6379 --target redis://t:6379 --keys-file keys.txt --db 0',
  ];

  static override flags = {
    ...sourceFlags,
    ...shardFlags,
    ...targetFlags,
    'target-type': Flags.string({ options: ['auto', 'standalone', 'cluster', 'proxy'], summary: 'Default: detect.' }),
    ...tlsFlags,
    ...selectFlags,
    match: Flags.string({ summary: 'SCAN MATCH pattern (Redis glob).' }),
    ...excludeFlags,
    count: Flags.integer({ min: 1, summary: 'SCAN COUNT and keys per DUMP page (default 1000).' }),
    rate: Flags.integer({ min: 0, summary: 'Keys/s read from each source node (default 20000; 0 = unlimited).' }),
    'rate-bytes': Flags.string({ summary: 'DUMP bytes/s read from each source node, e.g. 50mb (default 0 = off).' }),
    'keys-file': Flags.string({ summary: 'Copy the keys listed in this file (one per line) instead of SCAN.' }),
    'prefer-replica': Flags.boolean({ summary: 'Cluster source: read a replica of each shard.' }),
    live: Flags.boolean({ summary: 'After the pass, follow the source (keyspace notifications) until Ctrl-C.' }),
    'notify-check': Flags.boolean({ allowNo: true, summary: 'Check notify-keyspace-events first (default on).' }),
    'debounce-ms': Flags.integer({ min: 0, summary: '--live: re-copy a changed key at most once per this (100).' }),
    'on-conflict': Flags.string({ options: ['replace', 'skip', 'error'], summary: 'Key exists (default replace).' }),
    'on-error': Flags.string({ options: ['stop', 'skip'], summary: 'The target refuses a key (default skip).' }),
    functions: Flags.string({ options: ['replace', 'skip', 'error'], summary: 'Library exists (default replace).' }),
    ...writeFlags,
    verify: Flags.boolean({ summary: 'After the pass (not with --live), check the target against the source.' }),
    'verify-report': Flags.string({ summary: 'With --verify: one JSON line per difference to this file (- stdout).' }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const { values, names } = this.flagSettings(FLAG_KEYS);
    const tls = tlsSettings(this.loadConfig(values, names).config, f);
    const { config } = this.loadConfig({ ...values, ...tls.values }, { ...names, ...tls.names });
    this.requireEndpoint(config, 'source');
    this.requireEndpoint(config, 'target');
    this.jsonNeedsStdout('write the verify report to a file, not -', f['verify-report'] === '-');
    const r = config.restore;
    const ru = config.rump;
    const targetConn = connectionFromSection(config.target, 'target');
    const dbMap = parseDbMap(r.db_map);
    if (targetConn.db && r.db_map === '') dbMap.rest = targetConn.db;
    const sourceConn = connectionFromSection(config.source, 'source');
    const dbs = f.db ?? (sourceConn.db !== undefined ? [sourceConn.db] : undefined);
    const target = await openTarget({
      connection: { ...targetConn, name: 'shake-rump' },
      kind: config.target.type === 'auto' ? undefined : config.target.type,
      connections: r.connections,
    });
    const counters = new Counters();
    const stats = new RumpStats();
    this.board.counters = counters;
    this.board.setPhase('scan');
    const meter = new RateMeter();
    const stopDrawing = this.startProgress(
      {
        done: () => 0,
        total: () => null,
        keys: () => keysScanned(counters),
        detail: () => progressLine(stats, counters, meter.update(keysScanned(counters) + stats.live.recopied)),
      },
      config.log.progress,
      30_000,
    );
    const started = Date.now();
    let result: RumpResult;
    try {
      result = await rump({
        source: sourceConn,
        shard: shardSetting(config),
        target,
        counters,
        stats,
        ...keySelection(f),
        dbs,
        match: f.match,
        dbMap,
        scanCount: ru.scan_count,
        rate: ru.rate,
        rateBytes: ru.rate_bytes,
        keysFile: f['keys-file'],
        preferReplica: ru.prefer_replica,
        live: ru.live,
        notifyCheck: ru.notify_check,
        debounceMs: ru.debounce_ms,
        maxPending: ru.max_pending,
        onConflict: ru.on_conflict,
        onError: ru.on_error,
        functionsPolicy: ru.functions,
        bigKeyThreshold: r.big_key_threshold,
        connLimits: connLimitsOf(r),
        signal: this.abort.signal,
        onNotice: (m) => this.notice(m),
        onWarning: (m) => this.warning(m),
        onLive: () => {
          this.board.setPhase('live');
          this.note(`first pass done: ${keysScanned(counters)} keys; following the source (Ctrl-C stops)`, 'info', {
            keys: keysScanned(counters),
          });
        },
      });
    } finally {
      stopDrawing();
      await target.close().catch(() => {});
    }
    this.note(summaryLine(result.counters, Date.now() - started, result.interrupted));
    for (const line of rumpReport(result)) this.note(line);
    this.jsonSummary = rumpJson(result, Date.now() - started);
    const failure = failureLine(result.counters, result.stopped, result.interrupted);
    if (failure) this.exitFailed(failure);
    if (f.verify && ru.live) this.note('verify: not with --live (the source keeps changing); run shake check');
    else if (f.verify && config.source.shard) {
      this.note('verify: not with --shard (this process copied a share of the source); run shake check at the end');
    } else if (f.verify && !result.interrupted && !result.stopped) {
      const v = await verifyCopy(
        {
          ...checkSettings(config.check),
          source: sourceConn,
          target: targetConn,
          targetKind: config.target.type === 'auto' ? undefined : config.target.type,
          dbMap,
          ...keySelection(f),
          dbs,
          match: f.match,
          signal: this.abort.signal,
          onNotice: (m) => this.notice(m),
        },
        f['verify-report'],
        (l) => this.note(l),
        (summary) => (this.jsonSummary.verify = checkJson(summary)),
      );
      if (v !== 0) this.exit(v);
    }
  }
}

/** Each flag and the config key it sets (`section.key` -> flag), once. */
const FLAG_KEYS: Record<string, string> = {
  ...SOURCE_KEYS,
  ...SHARD_KEYS,
  ...TARGET_KEYS,
  'rump.rate': 'rate',
  'rump.rate_bytes': 'rate-bytes',
  'rump.scan_count': 'count',
  'rump.on_conflict': 'on-conflict',
  'rump.on_error': 'on-error',
  'rump.functions': 'functions',
  'rump.prefer_replica': 'prefer-replica',
  'rump.live': 'live',
  'rump.notify_check': 'notify-check',
  'rump.debounce_ms': 'debounce-ms',
  ...WRITE_KEYS,
};
