/**
 * A progress line on stderr (bytes read of total, rate, keys), redrawn a few times a second on a terminal;
 * on anything else (a log file), when a subcommand asks for it, printed as a plain line now and then. The
 * pipeline knows nothing of it: it reads counters through the getters given.
 */
import chalk from 'chalk';

export interface ProgressSource {
  /** Bytes processed so far. */
  done(): number;
  /** Total bytes when known. */
  total(): number | null;
  /** Keys processed so far; null when keys are not counted (a replication snapshot): left out of the line. */
  keys(): number | null;
  /** When it returns text: nothing moves yet, and why (shown with the seconds waited). */
  waiting?(): string | null;
  /** When given: the whole line (a subcommand with its own phases, e.g. sync). */
  detail?(): string;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private readonly started = Date.now();
  private drawn = false;

  constructor(
    private readonly src: ProgressSource,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** When given, each line goes here (plain, every interval) instead of the stream (JSON logs). */
    private readonly emit?: (line: string) => void,
  ) {}

  /** True when a progress line makes sense: a terminal, not --quiet, not disabled by [log] progress. */
  static wanted(quiet: boolean, setting: 'auto' | 'never', stream: NodeJS.WriteStream = process.stderr): boolean {
    return !quiet && setting === 'auto' && stream.isTTY === true;
  }

  start(intervalMs = 200): this {
    this.timer = setInterval(() => this.draw(), intervalMs);
    this.timer.unref();
    return this;
  }

  line(width = this.stream.columns ?? 80): string {
    if (this.src.detail) return this.src.detail();
    const done = this.src.done();
    const total = this.src.total();
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    const waiting = this.src.waiting?.();
    if (waiting) return `${waiting}  ${secs.toFixed(0)} s`;
    const rate = `${formatBytes(done / secs)}/s`;
    const count = this.src.keys();
    const keys = count === null ? '' : `  ${count.toLocaleString('en-US')} keys`;
    if (total === null || total === 0) return `${formatBytes(done)}  ${rate}${keys}`;
    const frac = Math.min(1, done / total);
    const barWidth = Math.max(10, Math.min(40, width - 60));
    const filled = Math.round(frac * barWidth);
    const bar = chalk.green('█'.repeat(filled)) + chalk.dim('░'.repeat(barWidth - filled));
    const pct = `${(frac * 100).toFixed(0).padStart(3)}%`;
    return `${bar} ${pct}  ${formatBytes(done)} / ${formatBytes(total)}  ${chalk.cyan(rate)}${keys}`;
  }

  private draw(): void {
    if (this.emit) {
      this.emit(this.line().replace(/\x1b\[[0-9;]*m/g, ''));
      return;
    }
    if (this.stream.isTTY !== true) {
      this.stream.write(`${this.line()}\n`);
      return;
    }
    this.stream.write(`\r\x1b[2K${this.line()}`);
    this.drawn = true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.drawn) this.stream.write('\r\x1b[2K');
  }
}
