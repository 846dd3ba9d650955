/**
 * Append-only files as an Entry source: a single `appendonly.aof`, one that starts with an RDB preamble
 * (`aof-use-rdb-preamble`, the file begins with "REDIS"), and Redis 7's multi-part AOF (a base file, RDB
 * or AOF, then the incr files, in manifest order: see manifest.ts). Mirrors aof.c loadSingleAppendOnlyFile:
 * - each part starts in db 0 (a fresh fake client); SELECT changes the db of the commands that follow and is
 *   not passed on (the sink selects from CommandEntry.db);
 * - `#` annotation lines are skipped;
 * - MULTI ... EXEC blocks are handed out whole, in one batch, so a sink can keep them atomic; an unfinished
 *   block at the end of the last part is dropped (like Redis's revert), with a warning;
 * - a truncated last command in the LAST part is dropped with a warning (aof-load-truncated yes, the default);
 *   anywhere else it is an error.
 * The RDB part is parsed by the given RDB parser and its events pass through unchanged.
 */
import type { RdbEvent } from '@shake/rdb';
import type { CommandEntry, Entry, EntryBatch } from '../core/entry.js';
import { AofCommandParser, AofError, type AofCommand } from './aof-commands.js';

/** The part of the RDB parser this source needs (RdbParser satisfies it). */
export interface RdbPrefixParser {
  push(chunk: Buffer): RdbEvent[];
  /** Absolute bytes consumed so far. */
  readonly offset: number;
  /** After the `end` event: the bytes pushed beyond the RDB's checksum (the AOF tail's start). */
  trailing(): Buffer;
  /** Input finished: throws (RdbError) when the RDB is truncated. */
  end(): RdbEvent[];
}

export interface AofPart {
  /** For messages (file name). */
  name: string;
  chunks(): AsyncIterable<Buffer>;
}

export interface AofSourceOptions {
  createRdbParser: () => RdbPrefixParser;
  /** Called with the byte count of every chunk read (progress). */
  onBytes?: (n: number) => void;
  onWarning?: (message: string) => void;
  /** A MULTI block bigger than this is an error rather than unbounded buffering (default 256 MiB). */
  maxTransactionBytes?: number;
}

const RDB_MAGIC = Buffer.from('REDIS', 'latin1');

export async function* aofSource(parts: readonly AofPart[], opts: AofSourceOptions): AsyncGenerator<EntryBatch> {
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as AofPart;
    yield* readPart(part, i === parts.length - 1, opts);
  }
}

async function* readPart(part: AofPart, last: boolean, opts: AofSourceOptions): AsyncGenerator<EntryBatch> {
  const state = new PartState(part.name, opts);
  let head: Buffer | null = Buffer.alloc(0);
  let rdb: RdbPrefixParser | null = null;
  let rdbDone = false;
  for await (const chunk of part.chunks()) {
    opts.onBytes?.(chunk.length);
    let data: Buffer = chunk;
    if (head !== null) {
      // Decide RDB or commands from the first 5 bytes.
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.length < RDB_MAGIC.length && RDB_MAGIC.subarray(0, head.length).equals(head)) continue;
      data = head;
      head = null;
      if (data.subarray(0, RDB_MAGIC.length).equals(RDB_MAGIC)) rdb = opts.createRdbParser();
    }
    if (rdb && !rdbDone) {
      const events: Entry[] = rdb.push(data);
      if (events.some((e) => e.kind === 'end')) {
        rdbDone = true;
        if (events.length > 0) yield events;
        const tail = rdb.trailing();
        if (tail.length > 0) {
          const batch = state.feed(tail);
          if (batch.length > 0) yield batch;
        }
      } else if (events.length > 0) {
        yield events;
      }
      continue;
    }
    const batch = state.feed(data);
    if (batch.length > 0) yield batch;
  }
  if (head !== null && head.length > 0) {
    // A file shorter than the magic: commands (or garbage the parser reports).
    const batch = state.feed(head);
    if (batch.length > 0) yield batch;
  }
  if (rdb && !rdbDone) {
    const last: Entry[] = rdb.end();
    if (last.length > 0) yield last;
  }
  const tail = state.finish(last);
  if (tail.length > 0) yield tail;
}

/** Per-part command state: current db, an open MULTI block, batching. */
class PartState {
  private readonly parser: AofCommandParser;
  private readonly cmds: AofCommand[] = [];
  private db = 0;
  private multi: CommandEntry[] | null = null;
  private multiBytes = 0;
  private readonly maxTx: number;

  constructor(
    private readonly name: string,
    private readonly opts: AofSourceOptions,
  ) {
    this.parser = new AofCommandParser(name);
    this.maxTx = opts.maxTransactionBytes ?? 256 * 1024 * 1024;
  }

  feed(data: Buffer): EntryBatch {
    this.cmds.length = 0;
    this.parser.push(data, this.cmds);
    const out: Entry[] = [];
    for (const c of this.cmds) this.route(c, out);
    return out;
  }

  finish(last: boolean): EntryBatch {
    if (this.parser.hasPartial) {
      const msg = `${this.name}: the last command is truncated at byte ${this.parser.offset}`;
      if (!last)
        throw new AofError('truncated command (only the last AOF part may end early)', this.parser.offset, this.name);
      this.opts.onWarning?.(`${msg}; it was dropped (as redis-server does with aof-load-truncated yes)`);
    }
    if (this.multi) {
      const n = this.multi.length - 1;
      this.multi = null;
      if (!last)
        throw new AofError('MULTI without EXEC before the end of a non-final AOF part', this.parser.offset, this.name);
      this.opts.onWarning?.(
        `${this.name}: an unfinished MULTI block (${n} command(s)) at the end was dropped, as redis-server reverts it`,
      );
    }
    return [];
  }

  private route(c: AofCommand, out: Entry[]): void {
    const argv = c.argv;
    const name = commandName(argv[0] as Buffer);
    if (name === 'select') {
      const db = Number((argv[1] ?? Buffer.alloc(0)).toString('latin1'));
      if (!Number.isInteger(db) || db < 0) throw new AofError('SELECT with a bad db index', c.offset, this.name);
      this.db = db;
      return;
    }
    const entry: CommandEntry = { kind: 'command', db: this.db, argv, offset: c.offset };
    if (this.multi) {
      this.multi.push(entry);
      for (const a of argv) this.multiBytes += a.length;
      if (this.multiBytes > this.maxTx) {
        throw new AofError(`a MULTI block larger than ${this.maxTx} bytes`, c.offset, this.name);
      }
      if (name === 'exec') {
        for (const e of this.multi) out.push(e);
        this.multi = null;
      } else if (name === 'discard') {
        this.multi = null;
      }
      return;
    }
    if (name === 'multi') {
      this.multi = [entry];
      this.multiBytes = 0;
      return;
    }
    out.push(entry);
  }
}

/** Lower-case command name for the handful of commands the source itself interprets. */
function commandName(arg: Buffer): string {
  return arg.length <= 8 ? arg.toString('latin1').toLowerCase() : '';
}
