/**
 * Wires source -> transforms -> sink. Owns shutdown: an AbortSignal (Ctrl-C) stops pulling from the
 * source, lets the sink drain what is in flight, and returns; an error aborts the sink and rethrows.
 * No terminal code here: progress is reported through the onBatch callback and the Counters.
 */
import type { EntryBatch, Sink, Source, Transform } from './entry.js';

export interface PipelineOptions {
  signal?: AbortSignal;
  /**
   * When the SOURCE fails (a truncated or corrupt input): 'abort' the sink (default: a file sink must not
   * commit half an input), or 'flush' it, so that everything complete before the bad bytes still lands (a
   * Redis target: the user then knows exactly what is there), and rethrow.
   */
  onSourceError?: 'abort' | 'flush';
  /** Called after each batch is handed to the sink (for progress). */
  onBatch?: (batch: EntryBatch) => void;
}

export interface PipelineResult {
  /** True when the run was interrupted by the signal before the source ended. */
  interrupted: boolean;
}

export async function runPipeline(
  source: Source,
  transforms: Transform[],
  sink: Sink,
  opts: PipelineOptions = {},
): Promise<PipelineResult> {
  let interrupted = false;
  let sourceError: { err: unknown } | null = null;
  const it = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<EntryBatch>;
      try {
        next = await it.next();
      } catch (err) {
        if (opts.onSourceError !== 'flush') throw err;
        sourceError = { err };
        break;
      }
      if (next.done) break;
      let batch = next.value;
      for (const t of transforms) batch = t.apply(batch);
      if (batch.length > 0) await sink.write(batch);
      opts.onBatch?.(batch);
      if (opts.signal?.aborted) {
        interrupted = true;
        await it.return?.();
        break;
      }
    }
    for (let i = 0; i < transforms.length; i++) {
      let batch = transforms[i]?.finish?.() ?? [];
      for (const t of transforms.slice(i + 1)) if (batch.length > 0) batch = t.apply(batch);
      if (batch.length > 0) await sink.write(batch);
    }
  } catch (err) {
    await sink.abort?.().catch(() => {});
    await it.return?.().catch(() => {});
    throw err;
  }
  if (sourceError) {
    // What was complete before the bad input is on its way: let it land, then report the input's error.
    await sink.close().catch(() => {});
    throw sourceError.err;
  }
  await sink.close();
  return { interrupted };
}
