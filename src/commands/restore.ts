import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../cli/base-command.js';
import { describeError } from '../cli/describe-error.js';
import { failureLine, summaryLine } from '../cli/summary.js';
import { checkSettings, verifyCopy } from '../pipelines/verify.js';
import { connectionFromSection } from '../redis/endpoint.js';
import { Counters } from '../core/counters.js';
import { parseDbMap } from '../sinks/redis/db-map.js';
import { openTarget } from '../sinks/redis/open-target.js';
import { restore, type RestoreRun } from '../pipelines/restore.js';
import { restoreReport } from '../pipelines/restore-report.js';
import { checkJson, restoreJson } from '../pipelines/json-summary.js';
import { connLimitsOf } from '../sinks/redis/conn-writer.js';
import { excludeFlags, keySelection, selectFlags } from '../cli/key-flags.js';
import { TARGET_KEYS, WRITE_KEYS, targetFlags, writeFlags } from '../cli/endpoint-flags.js';

export default class Restore extends BaseCommand<typeof Restore> {
  static override summary =
    'Load an RDB, an AOF (plain, RDB preamble, multi-part) or decode JSON lines into a live Redis.';
  static override description =
    'Standalone, cluster (routed by slot) or proxy targets. Keys go by RESTORE when the target can load the value, ' +
    'else as plain commands; big keys always as streamed commands. See docs/restore.md.';
  static override examples = [
    '<%= config.bin %> restore dump.rdb --target redis://127.0.0.1:6380',
    'SHAKE_TARGET_PASSWORD=secret <%= config.bin %> restore dump.rdb --target rediss://user@host:6380',
    '<%= config.bin %> restore appendonlydir --target redis://127.0.0.1:6380 --on-conflict replace',
    '<%= config.bin %> decode dump.rdb | jq -c "select(.type==\\"hash\\")" | <%= config.bin %> restore - --target redis://127.0.0.1:6380',
    '<%= config.bin %> restore dump.rdb --target redis://127.0.0.1:7000 --target-type cluster --db-map "*:0"',
  ];

  static override args = {
    input: Args.string({
      description:
        'RDB file, AOF file, appendonlydir (or its manifest), a shake dump manifest, JSON lines, or - for stdin',
      required: true,
    }),
  };

  static override flags = {
    ...targetFlags,
    'target-type': Flags.string({ options: ['auto', 'standalone', 'cluster', 'proxy'], summary: 'Default: detect.' }),
    'on-conflict': Flags.string({
      options: ['replace', 'skip', 'error'],
      summary: 'A key exists in the target (default error).',
    }),
    'on-error': Flags.string({ options: ['stop', 'skip'], summary: 'The target refuses a key (default stop).' }),
    functions: Flags.string({
      options: ['replace', 'skip', 'error'],
      summary: 'A function library exists (default error).',
    }),
    load: Flags.string({
      options: ['commands', 'replication', 'auto'],
      summary: 'commands (default), or have an empty standalone target load the RDB itself as a replica of shake.',
    }),
    listen: Flags.string({ summary: 'With --load replication: host[:port] the target connects to shake at.' }),
    'flush-target': Flags.boolean({ summary: 'FLUSHALL every target master before loading. Only when you mean it.' }),
    ...writeFlags,
    ...selectFlags,
    ...excludeFlags,
    verify: Flags.boolean({ summary: 'After the load, check the target against the RDB input (shake check).' }),
    'verify-report': Flags.string({ summary: 'With --verify: one JSON line per difference to this file (- stdout).' }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const { values, names } = this.flagSettings({
      ...TARGET_KEYS,
      'restore.on_conflict': 'on-conflict',
      'restore.on_error': 'on-error',
      'restore.functions': 'functions',
      'restore.load': 'load',
      'restore.listen': 'listen',
      ...WRITE_KEYS,
    });
    const { config } = this.loadConfig(values, names);
    this.jsonNeedsStdout('write the verify report to a file, not -', f['verify-report'] === '-');
    const r = config.restore;
    this.requireEndpoint(config, 'target');
    const connection = connectionFromSection(config.target, 'target');
    const dbMap = parseDbMap(r.db_map);
    if (connection.db && r.db_map === '') dbMap.rest = connection.db;
    const target = await openTarget({
      connection,
      kind: config.target.type === 'auto' ? undefined : config.target.type,
      connections: r.connections,
    });
    const counters = new Counters();
    this.board.counters = counters;
    let totalBytes: number | null = null;
    const stopProgress = this.startProgress(
      { done: () => counters.bytesRead, total: () => totalBytes, keys: () => counters.keysRead },
      config.log.progress,
    );
    const started = Date.now();
    let run: RestoreRun;
    try {
      run = await restore({
        input: { path: this.args.input },
        target,
        counters,
        onConflict: r.on_conflict,
        onError: r.on_error,
        functions: r.functions,
        bigKeyThreshold: r.big_key_threshold,
        dbMap,
        connLimits: connLimitsOf(r),
        flushTarget: f['flush-target'],
        load: r.load,
        listen: r.listen || undefined,
        onNotice: (m) => this.notice(m),
        ...keySelection(f),
        signal: this.abort.signal,
        onWarning: (m) => this.warning(m),
        onInput: (i) => {
          totalBytes = i.totalBytes;
        },
      });
    } catch (err) {
      // Say what the target holds now: every key complete before the error was written (or failed, counted).
      throw new Error(
        `${describeError(err)} (${counters.keysWritten} key(s) written to the target before it` +
          `${counters.failed > 0 ? `, ${counters.failed} failed` : ''})`,
      );
    } finally {
      stopProgress();
      await target.close().catch(() => {});
    }
    this.note(summaryLine(run.counters, Date.now() - started, run.interrupted));
    for (const line of restoreReport(run)) this.note(line);
    this.jsonSummary = restoreJson(run, Date.now() - started);
    const failure = failureLine(run.counters, run.stopped, false);
    if (failure) this.exitFailed(failure);
    if (f.verify && !run.interrupted) {
      const rdbInput = (run.kind === 'rdb' && run.files.length === 1) || run.kind === 'dump-manifest';
      if (!rdbInput || this.args.input === '-') {
        this.note(`verify: needs an RDB file or a dump manifest as the input (this one is ${run.kind}); not checked`);
        this.exit(2);
      } else {
        const v = await verifyCopy(
          {
            ...checkSettings(config.check),
            source: { rdbFile: run.kind === 'dump-manifest' ? this.args.input! : run.files[0]! },
            target: connection,
            targetKind: config.target.type === 'auto' ? undefined : config.target.type,
            dbMap,
            ...keySelection(f),
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
}
