/**
 * The base of every shake command: shared flags (--config, --debug, --quiet), configuration loading
 * through the one schema, Ctrl-C as an AbortSignal, and error handling: any error is ONE line on stderr
 * and exit code 1; the stack only with --debug.
 */
// oclif's parts by subpath: its index loads help, ux and more that a run never needs
import { Command } from '@oclif/core/command';
import * as Errors from '@oclif/core/errors';
import * as Flags from '@oclif/core/flags';
import type * as Interfaces from '@oclif/core/interfaces';
import chalk from 'chalk';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { ShakeConfig } from '../config/schema.js';
import { describeError } from './describe-error.js';
import { RunBoard, serveMetrics, type MetricsServer } from '../core/metrics.js';
import { toJsonText, type JsonSummary } from '../pipelines/json-summary.js';

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
  /** What --json prints at the end (the command's own fields); the base adds command, ok, exitCode, error. */
  protected jsonSummary: JsonSummary = {};
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
      flags: { ...flags, 'metrics.port': this.flags['metrics-port'] },
      flagNames: { ...flagNames, 'metrics.port': '--metrics-port' },
    });
    this.startMetrics(loaded.config);
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
        this.note(`metrics: http://${bind}:${server.port}/metrics and /status`);
        return server;
      },
      (err: Error) => {
        this.noteLoss(`metrics: cannot listen on ${bind}:${port}: ${err.message}`);
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
    if (this.jsonEnabled()) {
      this.logJson({
        command: this.id ?? null,
        ok: exitCode === 0,
        exitCode,
        ...this.jsonSummary,
        ...(this.failure === null ? {} : { error: this.failure }),
      });
    }
    const server = await this.metricsServer;
    await server?.close();
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

  /** One line on stderr unless --quiet. */
  protected note(line: string): void {
    if (!this.flags?.quiet) process.stderr.write(`${line}\n`);
  }

  /** A line about data not carried (NOT WRITTEN / WARNING ...): written even with --quiet, like an error. */
  protected noteLoss(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  /** Exit 1 with the one line that says why: written even with --quiet (which silences only the summaries). */
  protected exitFailed(line: string, code = 1): never {
    this.failure = line;
    const color = process.stderr.isTTY ? chalk.red : (s: string) => s;
    process.stderr.write(`${color('error:')} ${line}\n`);
    this.exit(code);
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<never> {
    if (err instanceof Errors.ExitError) throw err;
    const debug = this.flags?.debug ?? this.argv.includes('--debug');
    const color = process.stderr.isTTY ? chalk.red : (s: string) => s;
    this.failure = describeError(err);
    process.stderr.write(`${color('error:')} ${this.failure}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    throw new Errors.ExitError(this.errorExitCode);
  }
}
