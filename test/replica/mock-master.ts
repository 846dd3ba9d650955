/**
 * A scripted fake master for fault injection (what a real server will not do on demand: close the link
 * mid-transfer, stall, send garbage or a corrupt RDB). It decodes each command the replica sends and
 * lets the test's script answer with raw bytes.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { RespDecoder, type RespValue } from '@shake/resp';

export interface MockConnection {
  socket: Socket;
  /** Resolves with the next command (argv as strings). */
  next(): Promise<string[]>;
  send(bytes: string | Buffer): void;
}

export interface MockMaster {
  port: number;
  peer: string;
  close(): Promise<void>;
}

export async function startMockMaster(script: (c: MockConnection) => Promise<void>): Promise<MockMaster> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const queue: string[][] = [];
    let waiter: ((argv: string[]) => void) | null = null;
    const decoder = new RespDecoder({
      onReply: (v: RespValue) => {
        const argv = Array.isArray(v) ? v.map((x) => String(x)) : [String(v)];
        if (waiter) {
          const w = waiter;
          waiter = null;
          w(argv);
        } else queue.push(argv);
      },
    });
    socket.on('data', (d: Buffer) => decoder.write(d));
    const conn: MockConnection = {
      socket,
      next: () => {
        const q = queue.shift();
        return q ? Promise.resolve(q) : new Promise((r) => (waiter = r));
      },
      send: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
    };
    script(conn).catch(() => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    peer: `127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Answers the REPLCONF commands with +OK until PSYNC (or SYNC) arrives; returns that command. */
export async function acceptHandshake(c: MockConnection): Promise<string[]> {
  for (;;) {
    const argv = await c.next();
    const cmd = (argv[0] ?? '').toUpperCase();
    if (cmd === 'PSYNC' || cmd === 'SYNC') return argv;
    c.send('+OK\r\n');
  }
}
