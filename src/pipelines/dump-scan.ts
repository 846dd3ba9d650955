/**
 * `shake dump --mode scan` for one server: SCAN + DUMP + PEXPIRETIME (ScanSource) assembled into an RDB
 * file (RdbFileSink) through the ordinary pipeline. This is what runs where replication is refused (AWS
 * ElastiCache) and what `--mode auto` falls back to. An interrupted run leaves no file behind.
 */
import type { Counters } from '../core/counters.js';
import { runPipeline } from '../core/pipeline.js';
import { connect, type ConnectionOptions } from '../redis/index.js';
import { RdbFileSink, type RdbFileSinkResult } from '../sinks/rdb-file.js';
import { ScanSource, type ScanSourceInfo } from '../sources/scan.js';

export interface ScanDumpOptions {
  connection: ConnectionOptions;
  path: string;
  counters: Counters;
  dbs?: number[];
  scanCount: number;
  functions?: boolean;
  onNotice?: (message: string) => void;
  signal?: AbortSignal;
  fsync?: boolean;
}

export interface ScanDumpResult {
  /** null when interrupted (no file written). */
  file: RdbFileSinkResult | null;
  source: ScanSourceInfo;
  interrupted: boolean;
}

export async function dumpViaScan(opts: ScanDumpOptions): Promise<ScanDumpResult> {
  // A dump is a single db stream per connection: the URL's db is not pre-selected (SELECT per db).
  const conn = await connect({ ...opts.connection, db: undefined });
  try {
    const source = new ScanSource(conn, {
      counters: opts.counters,
      dbs: opts.dbs,
      scanCount: opts.scanCount,
      functions: opts.functions,
      onNotice: opts.onNotice,
    });
    const sink = await RdbFileSink.open(opts.path, { signal: opts.signal, fsync: opts.fsync });
    const run = await runPipeline(source, [], sink, { signal: opts.signal });
    if (sink.result) opts.counters.keysWritten += sink.result.keys;
    return { file: sink.result, source: source.info, interrupted: run.interrupted || sink.result === null };
  } finally {
    await conn.close().catch(() => {});
  }
}
