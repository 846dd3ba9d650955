/** A raw TCP exchange with a real redis-server: write bytes, decode the answer with RespDecoder. */
import { connect } from 'node:net';
import { RespDecoder, type RespDecoderOptions, type RespValue } from '@shake/resp';

export async function exchange(
  port: number,
  pieces: ReadonlyArray<string | Buffer>,
  replies: number,
  extra: Partial<RespDecoderOptions> = {},
): Promise<{ replies: RespValue[]; pushes: RespValue[][]; attributes: unknown[]; raw: Buffer }> {
  const socket = connect({ host: '127.0.0.1', port });
  const out: RespValue[] = [];
  const pushes: RespValue[][] = [];
  const attributes: unknown[] = [];
  const raw: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const decoder = new RespDecoder({
      onReply: (v) => {
        out.push(v);
        if (out.length === replies) {
          socket.end();
          resolve({ replies: out, pushes, attributes, raw: Buffer.concat(raw) });
        }
      },
      onPush: (p) => pushes.push(p),
      onAttribute: (a) => attributes.push(a),
      ...extra,
    });
    socket.on('data', (chunk: Buffer) => {
      raw.push(chunk);
      try {
        decoder.write(chunk);
      } catch (e) {
        socket.destroy();
        reject(e as Error);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed after ${out.length}/${replies} replies`)));
    socket.cork();
    for (const p of pieces) socket.write(p);
    socket.uncork();
  });
}
