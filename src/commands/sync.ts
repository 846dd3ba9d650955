import * as Flags from '@oclif/core/flags';
import { failureLine } from '../cli/summary.js';
import { BaseCommand } from '../cli/base-command.js';
import { syncGauges, syncPhase, syncProgressLine, syncReport } from '../pipelines/sync-report.js';
import { checkSettings, verifyCopy } from '../pipelines/verify.js';
import { checkJson, syncJson } from '../pipelines/json-summary.js';
import { connectionFromSection } from '../redis/endpoint.js';
import { connLimitsOf } from '../sinks/redis/conn-writer.js';
import { parseDbMap } from '../sinks/redis/db-map.js';
import { openTarget } from '../sinks/redis/open-target.js';
import { sync, SyncProgress, type SyncResult } from '../pipelines/sync.js';
import {
  SHARD_KEYS,
  SOURCE_KEYS,
  TARGET_KEYS,
  WRITE_KEYS,
  shardFlags,
  shardSetting,
  sourceFlags,
  targetFlags,
  writeFlags,
} from '../cli/endpoint-flags.js';
import { excludeFlags, keySelection, selectFlags } from '../cli/key-flags.js';

export default class Sync extends BaseCommand<typeof Sync> {
  static override summary = 'Copy a live Redis by acting as its replica: snapshot, then every write, exactly once.';
  static override description =
    'PSYNC from each source master (standalone or cluster), load the snapshot through the restore pipeline, then ' +
    'apply the command stream in MULTI/EXEC batches that also write a checkpoint key (__shake:sync:...) in the ' +
    'target. Runs until SIGINT/SIGTERM (exit 0, resumable) or, with --until-caught-up, until the target has ' +
    'applied everything the source wrote. Run it again in the same directory to resume. See docs/sync.md.';
  static override examples = [
    '<%= config.bin %> sync --source redis://10.0.0.1:6379 --target redis://10.0.0.2:6379',
    'SHAKE_SOURCE_PASSWORD=s SHAKE_TARGET_PASSWORD=t <%= config.bin %> sync --source redis://repl@src:6379 --target redis://dst:6379',
    '<%= config.bin %> sync --source redis://src:6379 --target redis://node1:7000 --db-map "*:0" --until-caught-up',
  ];

  static override flags = {
    ...sourceFlags,
    ...shardFlags,
    ...targetFlags,
    ...selectFlags,
    ...excludeFlags,
    'target-type': Flags.string({ options: ['auto', 'standalone', 'cluster', 'proxy'], summary: 'Default: detect.' }),
    'on-conflict': Flags.string({
      options: ['replace', 'error'],
      summary: 'The target holds keys at the first start (default error).',
    }),
    'flush-target': Flags.boolean({ summary: 'FLUSHALL every target master before the snapshot is loaded.' }),
    functions: Flags.string({ options: ['replace', 'skip', 'error'], summary: 'A function library exists.' }),
    'until-caught-up': Flags.boolean({
      summary: 'End (exit 0) once the target has applied everything the source has written; prints the offset.',
    }),
    'on-error': Flags.string({
      options: ['stop', 'skip'],
      summary: 'A stream command the target lacks or refuses: stop (default) or count it and go on.',
    }),
    'forward-publish': Flags.boolean({ summary: 'Re-publish the PUBLISH commands of the stream on the target.' }),
    'state-dir': Flags.string({ summary: 'Snapshot file and spool directory (default .shake-sync).' }),
    name: Flags.string({ summary: 'Checkpoint key name part (default: the source master host:port).' }),
    'spool-max': Flags.string({ summary: 'Commands received and not applied, on disk, before failing (1gb).' }),
    ...writeFlags,
    pipeline: Flags.integer({ min: 1, summary: 'Commands per pipelined batch while loading (default 1024).' }),
    verify: Flags.boolean({ summary: 'With --until-caught-up: then check the target against the source.' }),
    'verify-report': Flags.string({ summary: 'With --verify: one JSON line per difference to this file (- stdout).' }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const { values, names } = this.flagSettings(FLAG_KEYS);
    const { config } = this.loadConfig(values, names);
    this.requireEndpoint(config, 'source');
    this.requireEndpoint(config, 'target');
    this.jsonNeedsStdout('write the verify report to a file, not -', f['verify-report'] === '-');
    if (f['flush-target'] && shardSetting(config)?.count !== undefined && shardSetting(config)!.count > 1) {
      this.error('--flush-target with --shard would empty what the other shards copy: flush the target once, first', {
        exit: 1,
      });
    }
    const r = config.restore;
    const s = config.sync;
    const targetConn = connectionFromSection(config.target, 'target');
    const dbMap = parseDbMap(r.db_map);
    if (targetConn.db && r.db_map === '') dbMap.rest = targetConn.db;
    const kind = config.target.type === 'auto' ? undefined : config.target.type;
    const selection = keySelection(f);
    const progress = new SyncProgress();
    this.board.gauges = () => syncGauges(progress);
    this.board.livePhase = () => syncPhase(progress);
    const started = Date.now();
    const stopProgress = this.startProgress(
      { done: () => 0, total: () => null, keys: () => 0, detail: () => syncProgressLine(progress) },
      config.log.progress,
    );
    let result: SyncResult;
    try {
      result = await sync({
        source: connectionFromSection(config.source, 'source'),
        shard: shardSetting(config),
        openTarget: () =>
          openTarget({ connection: { ...targetConn, name: 'shake-sync' }, kind, connections: r.connections }),
        stateDir: s.state_dir,
        name: s.name,
        onConflict: s.on_conflict,
        flushTarget: f['flush-target'],
        functions: s.functions,
        bigKeyThreshold: r.big_key_threshold,
        dbMap,
        filter: selection,
        connLimits: connLimitsOf(r),
        forwardPublish: s.forward_publish,
        onError: s.on_error,
        untilCaughtUp: f['until-caught-up'],
        spoolMaxBytes: s.spool_max_bytes,
        batchBytes: s.batch_bytes,
        timeoutMs: s.timeout_ms,
        reconnects: s.reconnects,
        stopGraceMs: s.stop_grace_ms,
        signal: this.abort.signal,
        progress,
        onNotice: (m) => this.notice(m),
        onWarning: (m) => this.warning(m),
      });
    } finally {
      stopProgress();
    }
    for (const line of syncReport(result, Date.now() - started)) this.note(line);
    this.jsonSummary = syncJson(result, Date.now() - started);
    if (f['until-caught-up'] && !this.jsonEnabled()) {
      // The final offset on stdout, one line per source master, for scripts: "<name> <replid> <offset>".
      for (const l of result.links) process.stdout.write(`${l.name} ${l.replid} ${l.offset}\n`);
    }
    const failed = result.links.reduce((n, l) => n + l.counters.failed, 0);
    let code = failed > 0 ? 1 : 0;
    if (f.verify && !f['until-caught-up']) this.note('verify: only with --until-caught-up; not checked');
    else if (f.verify && config.source.shard) {
      this.note('verify: not with --shard (this process copied a share of the source); run shake check at the end');
    } else if (f.verify && !this.abort.signal.aborted) {
      // The checkpoint keys sync keeps in the target (__shake:sync:*) are never compared (runCheck leaves them out).
      const v = await verifyCopy(
        {
          ...checkSettings(config.check),
          source: connectionFromSection(config.source, 'source'),
          target: targetConn,
          targetKind: kind,
          dbMap,
          ...selection,
          signal: this.abort.signal,
          onNotice: (m) => this.notice(m),
        },
        f['verify-report'],
        (l) => this.note(l),
        (summary) => (this.jsonSummary.verify = checkJson(summary)),
      );
      code = Math.max(code, v);
    }
    if (code !== 0) {
      // One line that says why, also with --quiet.
      const link = result.links.find((l) => l.counters.failed > 0);
      const line = link ? failureLine(link.counters, null, false) : null;
      if (link && line) this.exitFailed(`${link.name}: ${line}`, code);
      this.exitFailed(
        code === 2 ? 'verify: the copy could not be checked' : 'verify: the target differs from the source',
        code,
      );
    }
  }
}

/** `section.key` -> flag, once. */
const FLAG_KEYS: Record<string, string> = {
  ...SOURCE_KEYS,
  ...SHARD_KEYS,
  ...TARGET_KEYS,
  'sync.on_conflict': 'on-conflict',
  'sync.functions': 'functions',
  'sync.on_error': 'on-error',
  'sync.forward_publish': 'forward-publish',
  'sync.state_dir': 'state-dir',
  'sync.name': 'name',
  'sync.spool_max_bytes': 'spool-max',
  ...WRITE_KEYS,
};
