/**
 * The one currency of every shake pipeline (see ARCHITECTURE.md): an Entry is either an RDB event
 * (a key arrives as key-start, value batches, key-end; plus header/aux/function/... records) or a
 * command (AOF, the replication stream, keyspace-event re-copies). Sources yield Entry[] batches so
 * the async overhead is paid per batch, not per key.
 */
import type { RdbEvent } from '@shake/rdb';
import type { RespValue } from '@shake/resp';

export interface CommandEntry {
  kind: 'command';
  db: number;
  argv: Buffer[];
  /** Byte offset in the source (file or replication offset), when known. */
  offset?: number;
  /** Called with the target's reply (error replies as values), for a command whose result matters. */
  onReply?: (reply: RespValue) => void;
}

export type Entry = RdbEvent | CommandEntry;

export type EntryBatch = Entry[];

/** A source is a pull-based async iterable of entry batches; it must not read ahead without bound. */
export type Source = AsyncIterable<EntryBatch>;

/** A transform maps one batch to another (filters drop whole keys: key-start..key-end together). */
export interface Transform {
  name: string;
  apply(batch: EntryBatch): EntryBatch;
  /** The source has ended (or the run was interrupted): entries to write last, passed on to later transforms. */
  finish?(): EntryBatch;
}

/** A sink consumes batches; the returned promise is the backpressure (the runner awaits it). */
export interface Sink {
  write(batch: EntryBatch): Promise<void> | void;
  /** Flush everything in flight and release resources. */
  close(): Promise<void>;
  /** Abort after an error or Ctrl-C: stop sending, release resources, do not flush. */
  abort?(): Promise<void>;
}
