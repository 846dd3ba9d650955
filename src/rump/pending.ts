/**
 * Keys named by key-event notifications and not yet re-copied, per source node. A key is re-copied at
 * most once per debounce window: its first event makes it due `debounceMs` later, further events before
 * then change nothing (the re-copy reads the value as it is then). Deletions are not special: the re-copy
 * finds the key gone (DUMP says nil) and deletes it on the target, so the target always ends with what the
 * source held when the key was last read, whatever order events arrived in.
 *
 * Memory is bounded: past `maxKeys` pending keys the set is dropped and `overflowed` is raised; the caller
 * then rescans the node (which copies every key), and keeps collecting the events that follow.
 */
import type { KeyPage } from '../sources/scan.js';

export interface PendingOptions {
  debounceMs: number;
  maxKeys: number;
  now?: () => number;
}

interface PendingKey {
  db: number;
  key: Buffer;
  due: number;
}

export class PendingKeys {
  private readonly keys = new Map<string, PendingKey>();
  private wake: (() => void) | null = null;
  private readonly now: () => number;
  /** Raised when keys were dropped for memory; cleared by the caller once it has scheduled a rescan. */
  overflowed = false;
  /** Events recorded (including repeats of a pending key). */
  events = 0;

  constructor(private readonly opts: PendingOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.keys.size;
  }

  add(db: number, key: Buffer): void {
    this.events++;
    const id = `${db}:${key.toString('latin1')}`;
    if (this.keys.has(id)) return;
    if (this.keys.size >= this.opts.maxKeys) {
      this.keys.clear();
      this.overflowed = true;
    }
    this.keys.set(id, { db, key, due: this.now() + this.opts.debounceMs });
    this.notify();
  }

  /** Wakes a waiter (a new key, or a request to stop or rescan). */
  notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /**
   * Up to `max` due keys of one db (the db of the oldest due key), removed from the set; null when none
   * is due. Keys become due in the order they were added.
   */
  takeDue(max: number): KeyPage | null {
    const now = this.now();
    let db = -1;
    const keys: Buffer[] = [];
    for (const [id, p] of this.keys) {
      if (p.due > now) break;
      if (db === -1) db = p.db;
      if (p.db !== db) continue;
      keys.push(p.key);
      this.keys.delete(id);
      if (keys.length >= max) break;
    }
    return keys.length === 0 ? null : { db, keys };
  }

  /** Milliseconds until the oldest key is due (0: now), or null when nothing is pending. */
  nextDueIn(): number | null {
    for (const p of this.keys.values()) return Math.max(0, p.due - this.now());
    return null;
  }

  /** Resolves at the next add() or notify(), or after `ms` (null: no timeout). */
  waitForWork(ms: number | null): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      this.wake = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      if (ms !== null) {
        timer = setTimeout(() => {
          this.wake = null;
          resolve();
        }, ms);
      }
    });
  }

  clear(): void {
    this.keys.clear();
  }
}
