/**
 * What a command says on stderr, in one of two forms: the human lines (as written, `notice: ...`, `error: ...`), or
 * with `--log-format json` one JSON object per line: `time`, `level`, `event`, `message`, then the event's fields.
 * Levels (`[log] level`, `--log-level`): error < warn < info < debug; a line below the level is not written, and
 * `--quiet` raises info to warn (no progress, no summaries; warnings and errors stay).
 */
import chalk from 'chalk';
import { toJsonText } from '../core/json-text.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * What a line is about. notice/warning: said by a pipeline while it runs; summary: the report at the end;
 * loss: data not carried (NOT WRITTEN / WARNING lines); progress; error; result: the final summary's fields
 * (json only); stack: an error's stack (--debug).
 */
export type LogEvent = 'notice' | 'warning' | 'summary' | 'loss' | 'progress' | 'error' | 'result' | 'stack' | 'info';

export class Log {
  format: LogFormat = 'text';
  level: LogLevel = 'info';
  quiet = false;

  constructor(private readonly stream: NodeJS.WritableStream = process.stderr) {}

  /** Whether a line of this level is written. */
  enabled(level: LogLevel): boolean {
    const threshold = this.quiet && this.level !== 'error' ? 'warn' : this.level;
    return LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(threshold);
  }

  /**
   * One line: `text` as the human reads it, or the JSON object of `event` with `message` (default: the text)
   * and `fields`.
   */
  write(level: LogLevel, event: LogEvent, text: string, fields: Record<string, unknown> = {}, message = text): void {
    if (!this.enabled(level)) return;
    if (this.format === 'json') {
      this.stream.write(`${toJsonText({ time: new Date().toISOString(), level, event, message, ...fields })}\n`);
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  notice(message: string): void {
    this.write('info', 'notice', `notice: ${message}`, {}, message);
  }

  warning(message: string): void {
    this.write('warn', 'warning', `warning: ${message}`, {}, message);
  }

  error(message: string, fields: Record<string, unknown> = {}): void {
    const color = this.format === 'text' && process.stderr.isTTY ? chalk.red : (s: string) => s;
    this.write('error', 'error', `${color('error:')} ${message}`, fields, message);
  }
}
