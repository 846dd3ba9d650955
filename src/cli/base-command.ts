/**
 * The base of every shake command: shared flags (--config, --debug, --quiet, --json, --log-format, --log-level,
 * --metrics-port), configuration loading through the one schema, Ctrl-C and SIGTERM as an AbortSignal, what is
 * said on stderr (through one Log, human or JSON lines), and error handling: any error is ONE line on stderr and
 * a non-zero exit code; the stack only with --debug.
 */
// oclif's parts by subpath: its index loads help, ux and more that a run never needs
import { Command } from '@oclif/core/command';
import * as Errors from '@oclif/core/errors';
import * as Flags from '@oclif/core/flags';
import type * as Interfaces from '@oclif/core/interfaces';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { ShakeConfig } from '../config/schema.js';
import { describeError } from './describe-error.js';
import { LOG_FORMATS, LOG_LEVELS, Log, type LogEvent, type LogFormat } from './log.js';
import { Progress, type ProgressSource } from './progress.js';
import { RunBoard, serveMetrics, type MetricsServer } from '../core/metrics.js';
import { toJsonText } from '../core/json-text.js';
import { startTrace, stopTrace, type ProtocolTrace } from '../redis/trace.js';

/** host:port of a redis:// URL (no user, password or query); undefined when there is none. */
function hostPort(url: string): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return undefined;
  }
}

/** --log-format from the raw arguments (or SHAKE_LOG_FORMAT), for an error met before the flags are parsed. */
function logFormatOf(argv: string[]): LogFormat {
  const i = argv.indexOf('--log-format');
  const v = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--log-format='))?.slice(13);
  const chosen = v ?? process.env.SHAKE_LOG_FORMAT;
  return chosen === 'json' ? 'json' : 'text';
}

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

export abstract class BaseCommand<T extends typeof Command> extends Command {
  /** --json: the final summary as one JSON object on stdout (see jsonSummary and docs/configuration.md). */
  static override enableJsonFlag = true;
  static override baseFlags = {
    json: Flags.boolean({
      summary: 'Print the final summary as one JSON object on stdout (exit codes: docs/configuration.md).',
      helpGroup: 'GLOBAL',
    }),
    config: Flags.string({
      summary: 'Config file (INI). Default: ./shake.conf when it exists.',
      helpGroup: 'GLOBAL',
    }),
    debug: Flags.boolean({ summary: 'Show stack traces on errors.', helpGroup: 'GLOBAL' }),
    quiet: Flags.boolean({ char: 'q', summary: 'No progress bar and no summary on stderr.', helpGroup: 'GLOBAL' }),
    'log-format': Flags.string({
      options: [...LOG_FORMATS],
      summary: 'stderr as human lines (text) or one JSON object per line (json). Default: text.',
      helpGroup: 'GLOBAL',
    }),
    'log-level': Flags.string({
      options: [...LOG_LEVELS],
      summary: 'Write only lines of this level or above (error < warn < info < debug). Default: info.',
      helpGroup: 'GLOBAL',
    }),
    trace: Flags.string({
      summary: 'Record the bytes exchanged with the source and target in FILE (secrets masked; [trace] keys).',
      helpGroup: 'GLOBAL',
    }),
    'metrics-port': Flags.integer({
      min: 0,
      max: 65535,
      summary: 'Serve GET /metrics (Prometheus) and /status (JSON) on 127.0.0.1:PORT while running.',
      helpGroup: 'GLOBAL',
    }),
  };

  protected flags!: BaseFlags<T>;
  protected args!: BaseArgs<T>;
  /** Aborted on the first Ctrl-C or SIGTERM (pipelines drain and report); a second one exits at once. */
  protected readonly abort = new AbortController();
  /** What /metrics and /status show (commands set its counters, gauges and phase). */
  protected board!: RunBoard;
  private metricsServer: Promise<MetricsServer | null> | null = null;
  private trace: ProtocolTrace | null = null;
  /** What --json prints at the end (the command's own fields); the base adds command, ok, exitCode, error. */
  protected jsonSummary: Record<string, unknown> = {};
  /** Everything said on stderr goes through it (human lines, or JSON with --log-format json). */
  protected readonly logger = new Log();
  /** The one line that said why the run failed (for --json's `error`). */
  private failure: string | null = null;
  /** The exit code of an error that is not an oclif exit (check: 2, "could not check"). */
  protected errorExitCode = 1;

  public override async init(): Promise<void> {
    await super.init();
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
      enableJsonFlag: this.ctor.enableJsonFlag,
    });
    this.flags = flags as BaseFlags<T>;
    this.args = args as BaseArgs<T>;
    this.logger.quiet = this.flags.quiet;
    if (this.flags['log-format']) this.logger.format = this.flags['log-format'] as LogFormat;
    if (this.flags['log-level']) this.logger.level = this.flags['log-level'] as Log['level'];
    this.board = new RunBoard(this.id ?? 'shake', this.config.version);
    // SIGTERM (a container stop, systemd, kill) is Ctrl-C: stop reading, drain, report, clean up. A second
    // signal of either kind exits at once.
    const first = (): void => {
      process.removeListener('SIGINT', first);
      process.removeListener('SIGTERM', first);
      this.abort.abort();
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
    };
    process.once('SIGINT', first);
    process.once('SIGTERM', first);
  }

  /** Config from --config (or ./shake.conf), the environment, and these flag values (`section.key` -> value). */
  protected loadConfig(flags: Record<string, unknown> = {}, flagNames: Record<string, string> = {}): LoadedConfig {
    const loaded = loadConfig({
      configPath: this.flags.config,
      flags: {
        ...flags,
        'metrics.port': this.flags['metrics-port'],
        'log.format': this.flags['log-format'],
        'log.level': this.flags['log-level'],
        'trace.file': this.flags.trace,
      },
      flagNames: {
        ...flagNames,
        'metrics.port': '--metrics-port',
        'log.format': '--log-format',
        'log.level': '--log-level',
        'trace.file': '--trace',
      },
    });
    this.logger.format = loaded.config.log.format;
    this.logger.level = loaded.config.log.level;
    this.startMetrics(loaded.config);
    const t = loaded.config.trace;
    if (t.file && !this.trace) {
      this.trace = startTrace({ path: t.file, maxBytes: t.max_bytes, files: t.files, recordBytes: t.record_bytes });
      this.note(`trace: ${t.file}`, 'info', { file: t.file });
    }
    return loaded;
  }

  /** The metrics server ([metrics] port / --metrics-port), once per run; endpoints shown as host:port only. */
  private startMetrics(config: ShakeConfig): void {
    const { port, bind } = config.metrics;
    if (this.metricsServer || port === 0) return;
    this.board.endpoints = { source: hostPort(config.source.url), target: hostPort(config.target.url) };
    this.board.setPhase('running');
    this.metricsServer = serveMetrics(this.board, port, bind).then(
      (server) => {
        this.note(`metrics: http://${bind}:${server.port}/metrics and /status`, 'info', { port: server.port });
        return server;
      },
      (err: Error) => {
        this.logger.warning(`metrics: cannot listen on ${bind}:${port}: ${err.message}`);
        return null;
      },
    );
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    const exitCode = this.exitCodeOf(err);
    if (this.board) {
      this.board.setPhase(exitCode === 0 ? 'done' : 'failed');
      if (err && !(err instanceof Errors.ExitError)) this.board.lastError = describeError(err);
    }
    const result = {
      command: this.id ?? null,
      ok: exitCode === 0,
      exitCode,
      ...this.jsonSummary,
      ...(this.failure === null ? {} : { error: this.failure }),
    };
    if (this.jsonEnabled()) this.logJson(result);
    if (this.logger.format === 'json' && this.flags) {
      this.logger.write(exitCode === 0 ? 'info' : 'error', 'result', '', result, `exit ${exitCode}`);
    }
    const server = await this.metricsServer;
    await server?.close();
    if (this.trace) stopTrace();
    return super.finally(err);
  }

  /** The code the process ends with after `err` (none: 0). */
  private exitCodeOf(err: Error | undefined): number {
    if (!err) return 0;
    if (err instanceof Errors.ExitError) return err.oclif.exit ?? 1;
    return this.errorExitCode;
  }

  /** One line on stdout (--json's only output there). */
  public override logJson(json: unknown): void {
    process.stdout.write(`${toJsonText(json)}\n`);
  }

  /** Refuses --json with an option that also writes to stdout (the summary must be the only thing there). */
  protected jsonNeedsStdout(what: string, uses: boolean): void {
    if (uses && this.jsonEnabled()) this.error(`--json prints the summary on stdout; ${what}`, { exit: 1 });
  }

  /**
   * The settings the flags give, from ONE map per command (`section.key` -> flag name): the values for
   * loadConfig and the names its messages use. A boolean flag left off (false, and no --no- form) sets nothing,
   * so the config file and the environment still apply.
   */
  protected flagSettings(map: Record<string, string>): {
    values: Record<string, unknown>;
    names: Record<string, string>;
  } {
    const defs = this.ctor.flags as Record<string, { allowNo?: boolean } | undefined>;
    const given = this.flags as Record<string, unknown>;
    const values: Record<string, unknown> = {};
    const names: Record<string, string> = {};
    for (const [path, flag] of Object.entries(map)) {
      const v = given[flag];
      values[path] = v === false && defs[flag]?.allowNo !== true ? undefined : v;
      names[path] = `--${flag}`;
    }
    return { values, names };
  }

  /** Ends with the one-line error every subcommand gives when the source or target address is missing. */
  protected requireEndpoint(config: ShakeConfig, end: 'source' | 'target'): void {
    if (!config[end].url) this.error(`give the ${end} with --${end} redis://host:port (or [${end}] url)`, { exit: 1 });
  }

  /** A line of the report (a summary, an informative line): level info, so not with --quiet. */
  protected note(line: string, event: LogEvent = 'summary', fields: Record<string, unknown> = {}): void {
    this.logger.write('info', event, line, fields);
  }

  /** Said by a pipeline while it runs (onNotice). */
  protected notice(message: string): void {
    this.logger.notice(message);
  }

  /** A warning said by a pipeline while it runs (onWarning). */
  protected warning(message: string): void {
    this.logger.warning(message);
  }

  /** A line about data not carried (NOT WRITTEN / WARNING ...): level warn, so written even with --quiet. */
  protected noteLoss(line: string): void {
    this.logger.write('warn', 'loss', line);
  }

  /** Exit 1 with the one line that says why: written even with --quiet (which silences only the summaries). */
  protected exitFailed(line: string, code = 1): never {
    this.failure = line;
    this.logger.error(line, { exitCode: code });
    this.exit(code);
  }

  /**
   * The progress line, for as long as the run goes (the returned function stops it): redrawn on a terminal; in
   * JSON logs one `progress` event every `plainEveryMs` (default 30 s); on any other stderr only when
   * `plainEveryMs` is given. Nothing with --quiet, `[log] progress = never` or a level below info.
   */
  protected startProgress(src: ProgressSource, setting: 'auto' | 'never', plainEveryMs?: number): () => void {
    if (setting === 'never' || !this.logger.enabled('info')) return () => {};
    if (this.logger.format === 'json') {
      const bar = new Progress(src, process.stderr, (line) =>
        this.logger.write('info', 'progress', line, { bytes: src.done(), total: src.total(), keys: src.keys() }),
      ).start(plainEveryMs ?? 30_000);
      return () => bar.stop();
    }
    if (process.stderr.isTTY !== true && plainEveryMs === undefined) return () => {};
    const bar = new Progress(src).start(process.stderr.isTTY === true ? 250 : plainEveryMs);
    return () => bar.stop();
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<never> {
    if (err instanceof Errors.ExitError) throw err;
    const debug = this.flags?.debug ?? this.argv.includes('--debug');
    if (!this.flags) this.logger.format = logFormatOf(this.argv);
    this.failure = describeError(err);
    this.logger.error(this.failure, { exitCode: this.errorExitCode });
    if (debug && err instanceof Error && err.stack) this.logger.write('error', 'stack', err.stack);
    throw new Errors.ExitError(this.errorExitCode);
  }
}
