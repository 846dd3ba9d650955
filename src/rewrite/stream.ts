/**
 * A stream as commands: XADD with explicit ids, XGROUP CREATE at each group's last-delivered id (ENTRIESREAD on
 * 7.0+), XGROUP CREATECONSUMER (6.2+), XCLAIM ... FORCE JUSTID for every pending entry (TIME and RETRYCOUNT keep
 * its delivery time and count), and XSETID (last id, entries-added, max-deleted id on 7.0+).
 *
 * Pending entries whose message was deleted (XDEL, or trimmed by MAXLEN/MINID while still pending: common for a
 * capped stream with slow consumers): XCLAIM ignores an id that is not in the stream, and XADD cannot add an id
 * below the stream's last one, so such an entry can only be recreated when its id is written in order among the
 * real entries. A stream whose entries fit in `holdBytes` is therefore held until its groups are known (they come
 * after the entries in an RDB): its entries are written with a placeholder entry at each such id, the placeholders
 * are claimed like any pending entry and then removed (XTRIM MINID for those below the first real entry, which
 * leaves the max-deleted id alone; XDEL for the others), and XSETID comes last and sets the source's length
 * counters and max-deleted id again. A bigger stream is written as it comes; its pending entries below its first
 * entry are then counted as lost.
 *
 * What commands cannot express (counted as lost details, never silently): consumer seen/active times (the
 * server sets them to now), pending entries of a stream too big to hold whose message was deleted, and on
 * targets older than 6.2 consumers with an empty PEL.
 */
import type { RdbEvent, StreamEntry, StreamGroup, StreamId, StreamMeta } from '@shake/rdb';
import type { TargetFeatures } from './features.js';
import { formatStreamId, streamIdIsZero } from './format.js';
import type { Argv } from './key-rewriter.js';

/** A group name Redis would never create by itself, used to make an empty stream exist. */
const TEMP_GROUP = '__shake_mkstream__';
/** The field of a placeholder entry (it never outlives the rebuild). */
const PLACEHOLDER: [string, string] = ['__shake_pending__', ''];

type StreamEvent = Extract<RdbEvent, { kind: 'stream-entries' | 'stream-meta' | 'stream-group' }>;

function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
}

function entryBytes(e: StreamEntry): number {
  let n = 32;
  for (const [f, v] of e.fields) n += f.length + v.length + 16;
  return n;
}

export class StreamRewriter {
  created = false;
  lost = 0;
  private meta: StreamMeta | null = null;
  private metaWritten = false;
  /** Entries and groups held until the end (null once the stream is written as it comes). */
  private held: { entries: StreamEntry[]; groups: StreamGroup[]; bytes: number } | null;
  /** Direct mode: the first entry written (pending ids below it were trimmed away). */
  private firstWritten: StreamId | null = null;

  constructor(
    private readonly key: Buffer,
    private readonly features: TargetFeatures,
    private readonly emit: (argv: Argv) => void,
    /** Entry bytes held to recreate pending entries of deleted messages (0: write every stream as it comes). */
    private readonly holdBytes = 0,
  ) {
    this.held = holdBytes > 0 ? { entries: [], groups: [], bytes: 0 } : null;
  }

  push(ev: StreamEvent): void {
    if (ev.kind === 'stream-entries') {
      if (this.held) {
        for (const e of ev.entries) {
          this.held.entries.push(e);
          this.held.bytes += entryBytes(e);
        }
        if (this.held.bytes > this.holdBytes) this.release();
        return;
      }
      for (const e of ev.entries) this.writeEntry(e);
    } else if (ev.kind === 'stream-meta') {
      this.meta = ev.meta;
    } else if (this.held) {
      this.held.groups.push(ev.group);
    } else {
      this.writeMeta();
      this.writeGroup(ev.group, false);
    }
  }

  end(): void {
    if (this.held) this.writeHeld();
    else this.writeMeta();
  }

  /** Too big to hold: what is held is written as it would have been, and the rest follows as it comes. */
  private release(): void {
    const held = this.held!;
    this.held = null;
    for (const e of held.entries) this.writeEntry(e);
  }

  private writeEntry(e: StreamEntry): void {
    const argv: Argv = ['XADD', this.key, formatStreamId(e.id)];
    for (const [f, v] of e.fields) argv.push(f, v);
    this.emit(argv);
    this.firstWritten ??= e.id;
    this.created = true;
  }

  /** The whole stream is known: entries with placeholders at the deleted pending ids, groups, then the metadata. */
  private writeHeld(): void {
    const { entries, groups } = this.held!;
    this.held = null;
    const placeholders = deletedPendingIds(entries, groups);
    let i = 0;
    for (const p of placeholders) {
      while (i < entries.length && compareIds(entries[i]!.id, p) < 0) this.writeEntry(entries[i++]!);
      this.emit(['XADD', this.key, formatStreamId(p), ...PLACEHOLDER]);
      this.created = true;
    }
    while (i < entries.length) this.writeEntry(entries[i++]!);
    if (placeholders.length === 0) this.writeMeta();
    for (const g of groups) this.writeGroup(g, true);
    if (placeholders.length > 0) {
      this.removePlaceholders(placeholders, entries[0]?.id ?? null);
      this.writeMeta();
    }
  }

  private removePlaceholders(ids: StreamId[], firstReal: StreamId | null): void {
    // Below the first real entry (trimmed in the source): XTRIM MINID (6.2+) does not move the max-deleted id.
    const head = this.features.createConsumer ? ids.filter((id) => !firstReal || compareIds(id, firstReal) < 0) : [];
    if (head.length > 0) {
      const minId = firstReal ? formatStreamId(firstReal) : nextId(head[head.length - 1]!);
      this.emit(['XTRIM', this.key, 'MINID', minId]);
    }
    const rest = ids.slice(head.length);
    for (let i = 0; i < rest.length; i += 512) {
      this.emit(['XDEL', this.key, ...rest.slice(i, i + 512).map(formatStreamId)]);
    }
  }

  private ensureExists(): void {
    if (this.created) return;
    // XGROUP CREATE ... MKSTREAM makes an empty stream without adding (or deleting) an entry.
    this.emit(['XGROUP', 'CREATE', this.key, TEMP_GROUP, '0', 'MKSTREAM']);
    this.emit(['XGROUP', 'DESTROY', this.key, TEMP_GROUP]);
    this.created = true;
  }

  private writeMeta(): void {
    if (this.metaWritten) return;
    this.metaWritten = true;
    this.ensureExists();
    const m = this.meta;
    if (!m) return;
    const argv: Argv = ['XSETID', this.key, formatStreamId(m.lastId)];
    if (this.features.streamMetaV2) {
      if (m.entriesAdded !== null) argv.push('ENTRIESADDED', String(m.entriesAdded));
      if (m.maxDeletedEntryId !== null && !streamIdIsZero(m.maxDeletedEntryId)) {
        argv.push('MAXDELETEDID', formatStreamId(m.maxDeletedEntryId));
      }
    }
    this.emit(argv);
  }

  /**
   * `held`: every pending message exists (real or placeholder), so every entry is claimed. Else (written as it
   * came) a pending id below the first entry written was trimmed away: XCLAIM would ignore it, it is counted lost.
   */
  private writeGroup(g: StreamGroup, held: boolean): void {
    const create: Argv = ['XGROUP', 'CREATE', this.key, g.name, formatStreamId(g.lastId)];
    if (this.features.streamMetaV2 && g.entriesRead !== null) create.push('ENTRIESREAD', String(g.entriesRead));
    this.emit(create);
    for (const c of g.consumers) {
      if (this.features.createConsumer) this.emit(['XGROUP', 'CREATECONSUMER', this.key, g.name, c.name]);
      else if (c.pel.length === 0) this.lost++;
    }
    for (const p of g.pel) {
      const trimmed = !held && (this.firstWritten === null || compareIds(p.id, this.firstWritten) < 0);
      if (!p.consumer || trimmed) {
        this.lost++;
        continue;
      }
      this.emit([
        'XCLAIM',
        this.key,
        g.name,
        p.consumer,
        '0',
        formatStreamId(p.id),
        'TIME',
        String(p.deliveryTimeMs),
        'RETRYCOUNT',
        String(p.deliveryCount),
        'FORCE',
        'JUSTID',
      ]);
    }
  }
}

/** The pending ids of every group that are not entries of the stream (sorted, once each). */
function deletedPendingIds(entries: StreamEntry[], groups: StreamGroup[]): StreamId[] {
  const present = new Set(entries.map((e) => formatStreamId(e.id)));
  const missing = new Map<string, StreamId>();
  for (const g of groups) {
    for (const p of g.pel) {
      const k = formatStreamId(p.id);
      if (!present.has(k) && p.consumer) missing.set(k, p.id);
    }
  }
  return [...missing.values()].sort(compareIds);
}

function nextId(id: StreamId): string {
  return `${id.ms}-${id.seq + 1n}`;
}
