/**
 * Counters shared by every pipeline: nothing is ever dropped silently. Every key that is not written
 * is counted under a reason, and the first failures are kept with their key and message.
 */
export type SkipReason =
  'filtered' | 'expired' | 'conflict' | 'vanished' | 'type-changed' | 'unsupported' | 'error-skipped';

export interface Failure {
  key: Buffer | null;
  db: number | null;
  message: string;
}

export class Counters {
  keysRead = 0;
  keysWritten = 0;
  commandsRead = 0;
  commandsWritten = 0;
  bytesRead = 0;
  readonly skipped = new Map<SkipReason, number>();
  failed = 0;
  readonly failures: Failure[] = [];
  constructor(readonly maxFailuresKept = 20) {}

  skip(reason: SkipReason, n = 1): void {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + n);
  }

  get skippedTotal(): number {
    let n = 0;
    for (const v of this.skipped.values()) n += v;
    return n;
  }

  fail(failure: Failure): void {
    this.failed++;
    if (this.failures.length < this.maxFailuresKept) this.failures.push(failure);
  }

  toJSON(): Record<string, unknown> {
    return {
      keysRead: this.keysRead,
      keysWritten: this.keysWritten,
      commandsRead: this.commandsRead,
      commandsWritten: this.commandsWritten,
      bytesRead: this.bytesRead,
      skipped: Object.fromEntries(this.skipped),
      failed: this.failed,
      failures: this.failures.map((f) => ({ db: f.db, key: f.key?.toString('utf8') ?? null, message: f.message })),
    };
  }
}
