/**
 * Child process of memory.test.ts: stream an RDB file through parseRdb, count keys and elements without
 * keeping them, and print one JSON line with the counts, the time and the peak RSS of this process.
 */
import { createReadStream, statSync } from 'node:fs';
import { parseRdb } from '@shake/rdb';

const file = process.argv[2];
if (!file) throw new Error('usage: memory-child <file.rdb>');

const t0 = performance.now();
let keys = 0;
let elements = 0;
let bigHashFields = 0;
let currentKey = '';
for await (const events of parseRdb(createReadStream(file, { highWaterMark: 64 * 1024 }))) {
  for (const e of events) {
    switch (e.kind) {
      case 'key-start':
        keys++;
        currentKey = e.header.key.length < 32 ? e.header.key.toString('latin1') : '';
        break;
      case 'hash-entries':
        elements += e.entries.length;
        if (currentKey === 'big:hash') bigHashFields += e.entries.length;
        break;
      case 'list-items':
        elements += e.items.length;
        break;
      case 'set-members':
        elements += e.members.length;
        break;
      case 'zset-entries':
        elements += e.entries.length;
        break;
      case 'string':
        elements++;
        break;
      default:
        break;
    }
  }
}
const ms = performance.now() - t0;
const bytes = statSync(file).size;
process.stdout.write(
  JSON.stringify({ keys, elements, bigHashFields, ms, bytes, maxRssKb: process.resourceUsage().maxRSS }) + '\n',
);
