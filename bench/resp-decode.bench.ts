/**
 * @shake/resp's decoder alone on the raw bytes a real redis-server answered to a 1M-command pipeline (SET of a
 * 100-byte value / GET / INCR): MB/s and replies/s, best of three runs.
 * Usage: node dist/bench/resp-decode.bench.js [--replies 1000000]
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { commandByteLength, RespDecoder, writeCommand } from '@shake/resp';
import { startRedis } from '../test/harness/redis-server.js';
import { opt } from './lib/args.js';

const REPLIES = opt('replies', 1_000_000);

/** The raw bytes a real redis-server answers to a 1M-command pipeline (SET 100-byte value / GET / INCR). */
async function recordPipelinedResponse(port: number): Promise<Buffer[]> {
  const value = Buffer.alloc(100, 0x61);
  const cmds = [
    ['SET', 'key', value],
    ['GET', 'key'],
    ['INCR', 'counter'],
  ] as const;
  const socket = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  let replies = 0;
  const done = new Promise<void>((resolve, reject) => {
    const counter = new RespDecoder({
      onReply: () => {
        if (++replies === REPLIES) resolve();
      },
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      counter.write(c);
    });
    socket.on('error', reject);
  });
  const per = 10_000;
  for (let sent = 0; sent < REPLIES; sent += per) {
    const size = cmds.reduce((n, c) => n + commandByteLength(c), 0) * Math.ceil(per / 3) + 1000;
    const buf = Buffer.allocUnsafe(size);
    let p = 0;
    for (let i = sent; i < sent + per; i++) p = writeCommand(buf, p, cmds[i % 3]!);
    if (!socket.write(buf.subarray(0, p))) await new Promise((r) => socket.once('drain', r));
  }
  await done;
  socket.end();
  return chunks;
}

async function main(): Promise<void> {
  const server = await startRedis();
  try {
    const chunks = await recordPipelinedResponse(server.port);
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    let best = Infinity;
    for (let run = 0; run < 3; run++) {
      let replies = 0;
      const d = new RespDecoder({ onReply: () => replies++ });
      const t0 = process.hrtime.bigint();
      for (const c of chunks) d.write(c);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      assert.equal(replies, REPLIES);
      best = Math.min(best, ms);
    }
    const mbps = bytes / 1e6 / (best / 1000);
    const rps = REPLIES / (best / 1000);
    console.log(
      `resp decode: ${REPLIES} replies, ${(bytes / 1e6).toFixed(1)} MB in ${chunks.length} chunks: ` +
        `${best.toFixed(0)} ms, ${mbps.toFixed(0)} MB/s, ${(rps / 1e6).toFixed(2)} M replies/s`,
    );
  } finally {
    await server.stop();
  }
}

await main();
