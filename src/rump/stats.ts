/**
 * What a rump run reports while it runs and at the end, beyond the shared Counters: the phase, the number
 * of keys the source said it holds (INFO keyspace, for an estimate of completion), and what --live did.
 * Plain data and plain strings: the command draws them, tests read them.
 */
import type { Counters } from '../core/counters.js';

export type RumpPhase = 'starting' | 'scanning' | 'live' | 'rescanning' | 'stopping' | 'done';

export interface LiveStats {
  /** Key events received (all nodes). */
  events: number;
  /** Keys read again after an event (written, or found gone). */
  recopied: number;
  /** Keys deleted on the target because they were gone from the source when read again. */
  deleted: number;
  /** Keys waiting for their re-copy (all nodes). */
  pending: number;
  /** Full passes after the first (subscriber lost, or too many pending keys). */
  rescans: number;
  /** Times a lost subscriber was connected again. */
  resubscribes: number;
}

export class RumpStats {
  phase: RumpPhase = 'starting';
  nodes = 0;
  /** Keys in the selected dbs when each node's pass started (INFO keyspace), summed; null until known. */
  totalKeys: number | null = null;
  readonly startedAt = Date.now();
  /** When the first full pass ended on every node. */
  scanEndedAt: number | null = null;
  /** Keys the first full pass scanned (keysScanned then); what --live read after it is counted apart. */
  firstPassKeys: number | null = null;
  /** Keys decoded before writing (payload type the target cannot load / bigger than the threshold). */
  decodedForVersion = 0;
  decodedForSize = 0;
  /** How notifications were checked per node (config / probe / skipped). */
  readonly notifyChecks: string[] = [];
  readonly live: LiveStats = { events: 0, recopied: 0, deleted: 0, pending: 0, rescans: 0, resubscribes: 0 };

  addTotal(n: number): void {
    this.totalKeys = (this.totalKeys ?? 0) + n;
  }
}

/** Keys per second over a sliding window, fed with the running total. */
export class RateMeter {
  private readonly samples: [number, number][] = [];
  constructor(private readonly windowMs = 5000) {}

  update(total: number, now = Date.now()): number {
    this.samples.push([now, total]);
    while (this.samples.length > 2 && now - (this.samples[1]?.[0] ?? now) >= this.windowMs) this.samples.shift();
    const [t0, n0] = this.samples[0] ?? [now, total];
    return now > t0 ? ((total - n0) * 1000) / (now - t0) : 0;
  }
}

/** Keys SCAN (or the keys file, or an event) named and DUMP was asked for. */
export function keysScanned(c: Counters): number {
  return c.keysRead + (c.skipped.get('vanished') ?? 0);
}

function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function duration(secs: number): string {
  if (!Number.isFinite(secs) || secs < 0) return '?';
  if (secs < 90) return `${Math.ceil(secs)}s`;
  if (secs < 5400) return `${Math.round(secs / 60)}m`;
  return `${(secs / 3600).toFixed(1)}h`;
}

/** One progress line: counts, rate, estimate of completion (first pass), live state. */
export function progressLine(s: RumpStats, c: Counters, keysPerSec: number): string {
  const scanned = keysScanned(c);
  const parts = [
    `${s.phase}`,
    `scanned ${int(scanned)}${s.totalKeys !== null ? `/${int(s.totalKeys)}` : ''}`,
    `copied ${int(c.keysWritten)}`,
    `skipped ${int(c.skippedTotal)}`,
    `failed ${int(c.failed)}`,
    `${int(keysPerSec)} keys/s`,
  ];
  if (s.phase === 'scanning' && s.totalKeys !== null && keysPerSec > 0) {
    const left = Math.max(0, s.totalKeys - scanned);
    parts.push(`~${duration(left / keysPerSec)} left`);
  }
  if (s.phase === 'live' || s.phase === 'rescanning') {
    const l = s.live;
    parts.push(
      `events ${int(l.events)}, re-copied ${int(l.recopied)}, deleted ${int(l.deleted)}, pending ${int(l.pending)}`,
    );
  }
  return parts.join('  ');
}
