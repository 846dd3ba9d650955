/**
 * @shake/rdb's CRC-64 (slicing-by-8, no BigInt in the loop) on 16 MiB of seeded random bytes: MB/s, best of
 * --runs. It was a speed floor inside the unit suite (> 100 MB/s); here it only reports.
 * Usage: node dist/bench/crc64.bench.js [--mib 16] [--runs 4]
 */
import { crc64 } from '@shake/rdb';
import { prng } from '../test/helpers/prng.js';
import { opt } from './lib/args.js';

const MIB = opt('mib', 16);
const RUNS = opt('runs', 4);

const rnd = prng(3);
const buf = Buffer.allocUnsafe(MIB << 20);
for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256);
let best = 0;
for (let run = 0; run < RUNS; run++) {
  const t0 = process.hrtime.bigint();
  crc64(buf);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  best = Math.max(best, MIB / s);
}
console.log(`crc64: ${MIB} MiB, best of ${RUNS}: ${best.toFixed(0)} MB/s`);
