/**
 * Wires source -> transforms -> sink. Owns shutdown: an AbortSignal (Ctrl-C) stops pulling from the
 * source, lets the sink drain what is in flight, and returns; an error aborts the sink and rethrows.
 * No terminal code here: progress is reported through the onBatch callback and the Counters.
 */
import type { EntryBatch, Sink, Source, Transform } from './entry.js';

export interface PipelineOptions {
  signal?: AbortSignal;
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
  try {
    for await (let batch of source) {
      for (const t of transforms) batch = t.apply(batch);
      if (batch.length > 0) await sink.write(batch);
      opts.onBatch?.(batch);
      if (opts.signal?.aborted) {
        interrupted = true;
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
    throw err;
  }
  await sink.close();
  return { interrupted };
}
