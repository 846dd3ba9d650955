/**
 * Child process for memory.test.ts: writes an RDB file holding one hash of N fields, fed to RdbWriter in
 * batches as a parser would deliver them, and reports the peak RSS growth while doing so.
 * Usage: node memory-child.js <out-file> <fields> <value-bytes>
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { RDB_TYPE, RdbWriter, type HashEntry } from '@shake/rdb';

const [file, fieldsArg, valueArg] = process.argv.slice(2);
const fields = Number(fieldsArg ?? 2_000_000);
const valueBytes = Number(valueArg ?? 48);
const fd = openSync(file!, 'w');
const filler = 'v'.repeat(valueBytes);

global.gc?.();
const baseline = process.memoryUsage().rss;
let peak = baseline;
// rdbcompression off: this measures memory, and keeps the file as big as the data.
const writer = new RdbWriter({
  rdbVersion: 10,
  compress: false,
  output: (c) => writeSync(fd, c),
  aux: { ctime: 1700000000 },
});
writer.selectDb(0);
writer.beginKey(
  {
    db: 0,
    key: Buffer.from('big:hash'),
    type: 'hash',
    rdbType: RDB_TYPE.HASH,
    encoding: 'hashtable',
    expireAtMs: null,
    offset: 0,
  },
  fields,
);
const BATCH = 1024;
for (let i = 0; i < fields; i += BATCH) {
  const entries: HashEntry[] = [];
  for (let j = i; j < Math.min(fields, i + BATCH); j++) {
    entries.push({ field: Buffer.from(`field:${j}`), value: Buffer.from(`${j}:${filler}`) });
  }
  writer.value({ kind: 'hash-entries', entries });
  if ((i / BATCH) % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
}
writer.endKey();
writer.end();
closeSync(fd);
peak = Math.max(peak, process.memoryUsage().rss);
process.stdout.write(JSON.stringify({ baseline, peak, bytes: writer.stats.bytes }));
