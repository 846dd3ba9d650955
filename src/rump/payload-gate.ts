/**
 * Version safety for DUMP payloads, before they reach the Redis sink. The scan source hands each key over
 * as its DUMP body (key-end.raw) and announces the payloads' RDB version in a header record (one per source
 * node, which is why this runs per node and not in the shared sink). Whether a body goes on as is or is
 * decoded is strategy.ts's decision (planForPayload), not this module's: this transform only carries it out.
 * The sink RESTOREs a body restamped with the target's version whenever the target's loader knows the type
 * id (a 7.2 quicklist sent to 7.0, say), which is what RESTORE ... "DUMP payload version or checksum are
 * wrong" would otherwise refuse. For the rest this transform decodes the payload into value events and
 * drops the raw body, so the sink re-encodes it for the target or writes it as commands, exactly as
 * restore does for a parsed RDB:
 *   - a type id the target cannot load (7.2 listpack sets and v3 streams on 7.0, 7.4 hash field TTLs
 *     before 7.4, Valkey 9 ids anywhere else);
 *   - a body larger than the big-key threshold (never one giant RESTORE: streamed as commands).
 * A payload this parser cannot read fails that key (counted, reported), never the run.
 */
import { RdbError, dumpBodyEvents, verifyDumpPayload, type KeyHeader, type RdbEvent } from '@shake/rdb';
import type { Counters } from '../core/counters.js';
import type { Entry, EntryBatch, Transform } from '../core/entry.js';
import { planForPayload, type TargetProfile } from '../sinks/redis/strategy.js';

export interface PayloadGateOptions {
  target: TargetProfile;
  counters: Counters;
  bigKeyThreshold: number;
  /** Elements per value event when a payload is decoded (default 1024). */
  batchSize?: number;
}

export interface PayloadGateStats {
  /** Keys whose payload was decoded because the target cannot load its type id. */
  decodedForVersion: number;
  /** Keys whose payload was decoded because it is bigger than the big-key threshold. */
  decodedForSize: number;
}

export class PayloadGate implements Transform {
  readonly name = 'payload-gate';
  readonly stats: PayloadGateStats = { decodedForVersion: 0, decodedForSize: 0 };
  private version: number | null = null;

  constructor(private readonly opts: PayloadGateOptions) {}

  apply(batch: EntryBatch): EntryBatch {
    let out: Entry[] | null = null;
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as Entry;
      if (e.kind === 'header') this.version = e.version;
      const expanded = e.kind === 'key-end' && e.raw !== undefined ? this.expand(e.header, e.raw, e.payload) : null;
      if (expanded === null) {
        out?.push(e);
        continue;
      }
      // Replace key-start (the entry before) .. key-end with the decoded key, or with nothing on failure.
      if (out === null) out = batch.slice(0, i);
      const start = out.pop();
      if (start === undefined || start.kind !== 'key-start') throw new Error('payload gate: key-end without key-start');
      for (const ev of expanded) out.push(ev);
    }
    return out ?? batch;
  }

  /** null: pass the key as is; else the events to write instead (empty when the payload is unreadable). */
  private expand(h: KeyHeader, raw: Buffer, payload: Buffer | undefined): RdbEvent[] | null {
    const version = this.version ?? this.opts.target.rdbVersion;
    const plan = planForPayload(h, raw.length, version, this.opts.target, this.opts);
    if (plan.how === 'restore-raw') return null;
    try {
      // A payload the source did not check is checked before it is decoded.
      if (payload !== undefined) verifyDumpPayload(payload);
      const events = decodeBody(h, raw, version, this.opts.batchSize ?? 1024);
      if (plan.why === 'size') this.stats.decodedForSize++;
      else this.stats.decodedForVersion++;
      return events;
    } catch (err) {
      if (!(err instanceof RdbError)) throw err;
      this.opts.counters.fail({
        key: h.key,
        db: h.db,
        message: `DUMP payload (RDB ${version}, type ${h.rdbType}) cannot be read: ${err.message}`,
      });
      return [];
    }
  }
}

/** The value events of a DUMP body, under the key's own header (db, name, expiry). */
function decodeBody(h: KeyHeader, raw: Buffer, version: number, batchSize: number): RdbEvent[] {
  const parsed = [...dumpBodyEvents(h.rdbType, raw, version, { batchSize, verifyChecksum: false })].flat();
  const out: RdbEvent[] = [];
  let header: KeyHeader = h;
  for (const ev of parsed) {
    if (ev.kind === 'key-start') {
      header = { ...ev.header, db: h.db, key: h.key, expireAtMs: h.expireAtMs, offset: 0 };
      out.push({ kind: 'key-start', header, length: ev.length });
    } else if (ev.kind === 'key-end') {
      out.push({ kind: 'key-end', header });
    } else {
      out.push(ev);
    }
  }
  return out;
}
