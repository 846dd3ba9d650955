import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../cli/base-command.js';
import { summaryLine } from '../cli/summary.js';
import { decodeJson } from '../pipelines/json-summary.js';
import { DECODE_FORMATS } from '../config/schema.js';
import { decode } from '../pipelines/decode.js';
import { keySelection, selectFlags } from '../cli/key-flags.js';

export default class Decode extends BaseCommand<typeof Decode> {
  static override summary =
    'Decode an RDB file (or a DUMP payload) into JSON lines, JSON, RESP commands, keys or a memory report.';
  static override description =
    'The output format is documented in docs/decode.md. Filters drop whole keys and are counted in the summary.';
  static override examples = [
    '<%= config.bin %> decode dump.rdb > dump.jsonl',
    '<%= config.bin %> decode dump.rdb --format resp | redis-cli --pipe',
    '<%= config.bin %> decode dump.rdb --key "user:*" --type hash --format keys',
    '<%= config.bin %> decode dump.rdb --format memory --top 20',
    '<%= config.bin %> decode dump-7.4.rdb --format rdb --target-version 6.2 -o dump-6.2.rdb',
    '<%= config.bin %> decode dump-7.4.rdb --format resp --target-version 7.0 | redis-cli --pipe',
    '<%= config.bin %> decode dump.rdb --info',
    'cat dump.rdb | <%= config.bin %> decode -',
    '<%= config.bin %> decode --payload "$(redis-cli --no-raw DUMP k | xxd -p)"',
  ];

  static override args = {
    file: Args.string({ description: 'RDB file, or - for stdin', required: false }),
  };

  static override flags = {
    format: Flags.string({ char: 'f', options: [...DECODE_FORMATS], summary: 'Output format (default jsonl).' }),
    strings: Flags.string({ options: ['auto', 'base64'], summary: 'auto: text when printable UTF-8; base64: always.' }),
    output: Flags.string({ char: 'o', summary: 'Write to this file instead of stdout.' }),
    info: Flags.boolean({ summary: 'Summarize the file (header, aux, counts, checksum) instead of listing keys.' }),
    top: Flags.integer({ min: 1, summary: 'Memory report of the N biggest keys (implies --format memory).' }),
    ...selectFlags,
    'no-expired': Flags.boolean({ summary: 'Drop keys already expired (relative to now); kept by default.' }),
    payload: Flags.string({
      summary: 'Decode this DUMP payload (hex) instead of a file.',
      exclusive: ['payload-file'],
    }),
    'payload-file': Flags.string({ summary: 'Decode the DUMP payload in this file (raw bytes).' }),
    'batch-size': Flags.integer({ min: 1, summary: 'Elements per batch read from the RDB (default 1024).' }),
    'resp-batch': Flags.integer({ min: 1, summary: 'Most elements per command in --format resp (default 128).' }),
    'target-version': Flags.string({
      summary: '--format resp/rdb: the Redis version (X.Y) that reads the output; what it cannot hold is counted.',
    }),
    'verify-checksum': Flags.boolean({
      allowNo: true,
      summary: 'Check the CRC64 at the end of the file (default yes).',
    }),
  };

  public async run(): Promise<void> {
    const f = this.flags;
    const { config } = this.loadConfig(
      {
        'decode.format': f.format,
        'decode.strings': f.strings,
        'decode.batch_size': f['batch-size'],
        'decode.resp_batch': f['resp-batch'],
        'decode.verify_checksum': f['verify-checksum'],
        'decode.target_version': f['target-version'],
      },
      {
        'decode.format': '--format',
        'decode.strings': '--strings',
        'decode.batch_size': '--batch-size',
        'decode.resp_batch': '--resp-batch',
        'decode.verify_checksum': '--verify-checksum',
        'decode.target_version': '--target-version',
      },
    );
    const payload =
      f.payload !== undefined ? hexPayload(f.payload) : f['payload-file'] ? readFileSync(f['payload-file']) : undefined;
    if (!payload && !this.args.file)
      this.error('give an RDB file (or - for stdin), --payload or --payload-file', { exit: 1 });
    if (payload && this.args.file) this.error('give either a file or a payload, not both', { exit: 1 });

    if (f.top !== undefined && f.format !== undefined && f.format !== 'memory') {
      this.error(`--top is a memory report (--format memory); it cannot print --format ${f.format}`, { exit: 1 });
    }
    this.jsonNeedsStdout('write the output to a file (-o FILE)', f.output === undefined || f.output === '-');
    const run = decode({
      input: this.args.file,
      payload,
      format: f.top ? 'memory' : config.decode.format,
      strings: config.decode.strings,
      info: f.info,
      top: f.top,
      batchSize: config.decode.batch_size,
      respBatch: config.decode.resp_batch,
      verifyChecksum: config.decode.verify_checksum,
      output: f.output,
      targetVersion: config.decode.target_version || undefined,
      ...keySelection(f),
      dropExpired: f['no-expired'],
      signal: this.abort.signal,
    });
    const stopProgress = this.startProgress(
      { done: run.bytesRead, total: () => run.totalBytes, keys: () => run.counters.keysRead },
      config.log.progress,
    );
    const started = Date.now();
    try {
      const result = await run.done;
      if (result.closed) return;
      // --info and --top report on the keys instead of writing them.
      const kept = f.info ? 'summarized (--info)' : f.top ? `the ${f.top} biggest reported (--top)` : undefined;
      this.note(summaryLine(run.counters, Date.now() - started, result.interrupted, kept));
      const notes = run.conversionNotes();
      this.jsonSummary = decodeJson(run.counters, Date.now() - started, result.interrupted, {
        format: f.top ? 'memory' : config.decode.format,
        output: f.output,
        ...(run.info ? { info: run.info } : {}),
        notes,
      });
      for (const line of notes) {
        if (/^(NOT WRITTEN|WARNING)/.test(line)) this.noteLoss(line);
        else this.note(line);
      }
      const crc = run.info?.checksum;
      if (crc?.status === 'mismatch')
        throw new Error(`RDB checksum mismatch: stored ${crc.stored}, computed ${crc.computed}`);
    } finally {
      stopProgress();
    }
  }
}

function hexPayload(hex: string): Buffer {
  const clean = hex.replace(/\s+/g, '').replace(/^0x/i, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(clean)) {
    throw new Error('--payload: expected hex digits (an even number of them)');
  }
  return Buffer.from(clean, 'hex');
}
