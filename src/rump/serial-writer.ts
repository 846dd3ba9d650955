/**
 * Several source nodes feed one Redis sink, which takes one batch at a time (a key's events must not
 * interleave with another's). The writer queues the nodes' batches, tells the sink which RDB version the
 * DUMP bodies of each batch carry (a header record whenever it differs from the last one sent, so a
 * cluster in the middle of an upgrade is still restamped right), and can wait for every reply (flush),
 * which `--live` does after each re-copy so a later copy of a key never lands before an earlier one.
 */
import type { EntryBatch } from '../core/entry.js';
import type { RedisSink } from '../sinks/redis/sink.js';

export class SerialWriter {
  private chain: Promise<void> = Promise.resolve();
  private version: number | null = null;

  constructor(private readonly sink: RedisSink) {}

  /** Queues one batch whose DUMP bodies carry `version`; with `flush`, resolves once all replies are in. */
  write(batch: EntryBatch, version: number | null, flush: boolean): Promise<void> {
    return this.queue(async () => {
      if (version !== null && version !== this.version) {
        await this.sink.write([{ kind: 'header', magic: version >= 80 ? 'VALKEY' : 'REDIS', version, offset: 0 }]);
        this.version = version;
      }
      if (batch.length > 0) await this.sink.write(batch);
      if (flush) await this.sink.flush();
    });
  }

  /** Resolves once everything queued so far is written and answered. */
  flush(): Promise<void> {
    return this.queue(() => this.sink.flush());
  }

  private queue(job: () => Promise<void>): Promise<void> {
    const run = this.chain.then(job);
    this.chain = run.catch(() => {});
    return run;
  }
}
