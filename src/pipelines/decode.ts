/**
 * The `shake decode` pipeline as a plain module (no oclif, no terminal): RDB file or DUMP payload ->
 * key filter -> one text sink. The command wires flags and config into DecodeOptions; tests and
 * library users can call decode() directly.
 */
import { rdbVersionForRedis } from '@shake/rdb';
import { Counters } from '../core/counters.js';
import type { EntryBatch, Sink, Source, Transform } from '../core/entry.js';
import { runPipeline, type PipelineResult } from '../core/pipeline.js';
import type { DecodeFormat } from '../config/schema.js';
import { dumpPayloadSource, RdbFileSource } from '../sources/rdb-file.js';
import { keyFilter, keySelectionOf, type KeySelection } from '../transforms/filter.js';
import { InfoSink, type RdbInfo } from '../sinks/text/info.js';
import { JsonRecordSink } from '../sinks/text/json-records.js';
import type { StringMode } from '../sinks/text/json-bytes.js';
import { KeysSink } from '../sinks/text/keys.js';
import { MemorySink } from '../sinks/text/memory.js';
import { OutputClosedError, TextOutput } from '../sinks/text/output.js';
import { RespSink } from '../sinks/text/resp.js';
import { RdbFileSink, type RdbFileSinkResult } from '../sinks/rdb-file.js';
import { STDOUT } from '../sinks/rdb-file-output.js';

export interface DecodeOptions extends KeySelection {
  /** An RDB file, `-` for stdin; or `payload`. */
  input?: string;
  /** A DUMP payload instead of a file. */
  payload?: Buffer;
  format: DecodeFormat;
  strings: StringMode;
  /** --info: a summary instead of the keys (text, or JSON when format is json). */
  info?: boolean;
  /** --top N: the N biggest keys of the memory report. */
  top?: number;
  batchSize: number;
  respBatch: number;
  verifyChecksum: boolean;
  /** Output file; stdout when absent (`-` too, for format rdb). */
  output?: string;
  /**
   * Format resp / rdb: the Redis version (X.Y) that reads the output. resp: only its commands; rdb: the newest
   * RDB version it loads. What it cannot hold is dropped and counted (DecodeRun.conversionNotes).
   */
  targetVersion?: string;
  /** Or any output stream (library use, tests); wins over `output`. */
  out?: TextOutput;
  dropExpired?: boolean;
  nowMs?: number;
  signal?: AbortSignal;
  /** Called after each batch (progress). */
  onBatch?: (batch: EntryBatch) => void;
}

export interface DecodeRun {
  counters: Counters;
  /** Bytes of input read so far / in total (null when unknown). */
  bytesRead(): number;
  totalBytes: number | null;
  /** The summary collected by --info (null otherwise). */
  info: RdbInfo | null;
  /**
   * After done: what format resp / rdb could not carry for the target version (one line each, [] when nothing)
   * and how many of the keys counted as written were not (counters.keysWritten is corrected by done).
   */
  conversionNotes(): string[];
  /** Resolves when done; `closed` is true when the reader of stdout went away (e.g. `| head`). */
  done: Promise<PipelineResult & { closed: boolean }>;
}

function counting(name: string, inc: (n: number) => void): Transform {
  return {
    name,
    apply(batch) {
      let n = 0;
      for (const e of batch) if (e.kind === 'key-start') n++;
      if (n > 0) inc(n);
      return batch;
    },
  };
}

/** The RDB version `--target-version X.Y` loads (a Redis release line). */
export function rdbVersionForTarget(version: string): number {
  const v = rdbVersionForRedis(version);
  if (v === null) throw new Error(`--target-version ${version}: not a Redis release shake knows (2.6 and later)`);
  return v;
}

function makeSink(opts: DecodeOptions, out: TextOutput, totalBytes: () => number | null): Sink {
  if (opts.info) return new InfoSink(out, { json: opts.format === 'json', nowMs: opts.nowMs, totalBytes });
  if (opts.top !== undefined && opts.top > 0) return new MemorySink(out, { top: opts.top });
  switch (opts.format) {
    case 'jsonl':
    case 'json':
      return new JsonRecordSink(out, { framing: opts.format, strings: opts.strings });
    case 'keys':
      return new KeysSink(out);
    case 'resp':
      return new RespSink(out, { batch: opts.respBatch, targetVersion: opts.targetVersion });
    case 'memory':
      return new MemorySink(out);
    case 'rdb':
      throw new Error('format rdb is written by an RDB file sink, not a text sink (openSink)');
  }
}

/** The sink, and what it will have to say about the conversion once closed. */
interface OpenedSink {
  sink: Sink;
  notes: () => string[];
  /** Keys the sink really wrote, of the `passed` ones the filters let through. */
  written: (passed: number) => number;
}

async function openSink(opts: DecodeOptions, totalBytes: () => number | null): Promise<OpenedSink> {
  if (opts.format === 'rdb' && !opts.info && !(opts.top !== undefined && opts.top > 0)) {
    const rdbVersion = opts.targetVersion ? rdbVersionForTarget(opts.targetVersion) : undefined;
    const sink = await RdbFileSink.open(opts.output ?? STDOUT, { rdbVersion, signal: opts.signal });
    return {
      sink,
      notes: () => (sink.result ? rdbNotes(sink.result) : []),
      written: (passed) => sink.result?.keys ?? passed,
    };
  }
  const out = opts.out ?? (opts.output && opts.output !== STDOUT ? TextOutput.file(opts.output) : TextOutput.stdout());
  const sink = makeSink(opts, out, totalBytes);
  return {
    sink,
    notes: () => (sink instanceof RespSink ? sink.conversionNotes() : []),
    written: (passed) => (sink instanceof RespSink ? passed - sink.keysNotWritten : passed),
  };
}

function rdbNotes(r: RdbFileSinkResult): string[] {
  const lines = [`wrote ${r.keys} keys as RDB ${r.rdbVersion} to ${r.path === STDOUT ? 'stdout' : r.path}`];
  for (const [why, n] of Object.entries(r.skipped)) lines.push(`NOT WRITTEN: ${n} x ${why}`);
  if (r.droppedFieldTtls > 0) {
    lines.push(`WARNING: ${r.droppedFieldTtls} hash field TTL(s) dropped (RDB ${r.rdbVersion} cannot hold them)`);
  }
  return lines;
}

export function decode(opts: DecodeOptions): DecodeRun {
  const counters = new Counters();
  // --info reports a checksum mismatch (and fails afterwards) instead of stopping at it
  // keys and --info need only the key headers: the parser skips values instead of decoding them
  const values = !(opts.info || (opts.format === 'keys' && !(opts.top !== undefined && opts.top > 0)));
  const parserOpts = {
    batchSize: opts.batchSize,
    verifyChecksum: opts.info ? false : opts.verifyChecksum,
    values,
  };
  let source: Source;
  let file: RdbFileSource | null = null;
  if (opts.payload) {
    source = dumpPayloadSource(opts.payload, parserOpts);
  } else {
    // keys only: parsing a chunk is quicker than a stream's read round trip (RdbFileSourceOptions.readSync)
    file = new RdbFileSource(opts.input ?? '-', { ...parserOpts, readSync: !values });
    source = file;
  }
  const totalBytes = file ? file.totalBytes : (opts.payload?.length ?? null);
  const bytesRead = () => (file ? file.bytesRead : (opts.payload?.length ?? 0));
  const transforms: Transform[] = [];
  const filter = keyFilter(
    {
      ...keySelectionOf(opts),
      dropExpired: opts.dropExpired,
      nowMs: opts.nowMs,
    },
    counters,
  );
  if (filter) {
    transforms.push(
      counting('count-read', (n) => (counters.keysRead += n)),
      filter,
    );
    transforms.push(counting('count-written', (n) => (counters.keysWritten += n)));
  } else {
    // nothing is dropped: one pass counts both
    transforms.push(
      counting('count-read', (n) => {
        counters.keysRead += n;
        counters.keysWritten += n;
      }),
    );
  }
  let opened: OpenedSink | null = null;
  const done = openSink(opts, () => totalBytes)
    .then((o) => {
      opened = o;
      return runPipeline(source, transforms, o.sink, {
        signal: opts.signal,
        onBatch: (b) => {
          counters.bytesRead = bytesRead();
          opts.onBatch?.(b);
        },
      });
    })
    .then(
      (r) => {
        counters.bytesRead = bytesRead();
        if (opened) counters.keysWritten = opened.written(counters.keysWritten);
        return { ...r, closed: false };
      },
      (err: unknown) => {
        if (err instanceof OutputClosedError) return { interrupted: true, closed: true };
        throw err;
      },
    );
  return {
    counters,
    bytesRead,
    totalBytes,
    get info() {
      const sink = (opened as OpenedSink | null)?.sink;
      return sink instanceof InfoSink ? sink.info : null;
    },
    conversionNotes: () => (opened as OpenedSink | null)?.notes() ?? [],
    done,
  };
}
