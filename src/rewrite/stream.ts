/**
 * A stream as commands: XADD with explicit ids, then XSETID (last id, entries-added, max-deleted id),
 * XGROUP CREATE at each group's last-delivered id, XGROUP CREATECONSUMER, and XCLAIM ... FORCE for every
 * pending entry (TIME and RETRYCOUNT keep its delivery time and count).
 *
 * What commands cannot express (reported as lost details, never silently): consumer seen/active times
 * (the server sets them to now), pending entries whose message was deleted (XCLAIM ignores them), and on
 * targets older than 6.2 consumers with an empty PEL.
 */
import type { RdbEvent, StreamGroup, StreamMeta } from '@shake/rdb';
import type { TargetFeatures } from './features.js';
import { formatStreamId, streamIdIsZero } from './format.js';
import type { Argv } from './key-rewriter.js';

/** A group name Redis would never create by itself, used to make an empty stream exist. */
const TEMP_GROUP = '__shake_mkstream__';

type StreamEvent = Extract<RdbEvent, { kind: 'stream-entries' | 'stream-meta' | 'stream-group' }>;

export class StreamRewriter {
  created = false;
  lost = 0;
  private meta: StreamMeta | null = null;
  private metaWritten = false;

  constructor(
    private readonly key: Buffer,
    private readonly features: TargetFeatures,
    private readonly emit: (argv: Argv) => void,
  ) {}

  push(ev: StreamEvent): void {
    if (ev.kind === 'stream-entries') {
      for (const e of ev.entries) {
        const argv: Argv = ['XADD', this.key, formatStreamId(e.id)];
        for (const [f, v] of e.fields) argv.push(f, v);
        this.emit(argv);
        this.created = true;
      }
    } else if (ev.kind === 'stream-meta') {
      this.meta = ev.meta;
    } else {
      this.writeMeta();
      this.writeGroup(ev.group);
    }
  }

  end(): void {
    this.writeMeta();
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

  private writeGroup(g: StreamGroup): void {
    const create: Argv = ['XGROUP', 'CREATE', this.key, g.name, formatStreamId(g.lastId)];
    if (this.features.streamMetaV2 && g.entriesRead !== null) create.push('ENTRIESREAD', String(g.entriesRead));
    this.emit(create);
    for (const c of g.consumers) {
      if (this.features.createConsumer) this.emit(['XGROUP', 'CREATECONSUMER', this.key, g.name, c.name]);
      else if (c.pel.length === 0) this.lost++;
    }
    for (const p of g.pel) {
      if (!p.consumer) {
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
