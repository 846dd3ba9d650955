/**
 * shake as a replication master for one replica: the other end of the link in link.ts. A target told
 * `REPLICAOF <us>` connects, does its handshake (replication.c syncWithMaster: PING, AUTH, REPLCONF
 * listening-port / capa, then PSYNC, or SYNC before 2.8) and is answered with a full resync whose snapshot is
 * the RDB we send: `+FULLRESYNC <replid> 0` and `$<length>` (the disk-based form every version reads; the
 * length is known up front), then the bytes. The replica then loads it as it would load its master's: the
 * way `shake restore --load replication` has the target do the work of a load itself.
 *
 * What a replica sends besides its handshake is taken in stride: keepalive newlines while it loads (7.0+
 * replicationSendNewlineToMaster), REPLCONF ACK (no reply), inline commands (2.8 writes its handshake inline).
 * A replica that connects again after the transfer (a failed load: replicas retry the sync) is reported by
 * `onResync` and is refused; the caller ends the link with REPLICAOF NO ONE.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

export interface RdbMasterOptions {
  /** Address to listen on: one the target can reach. */
  host: string;
  /** 0: any free port. */
  port?: number;
  /** Length of the RDB to be sent: the `$<length>` header. */
  length: number;
  /** A second sync request after the transfer began: the replica's load failed and it retries. */
  onResync?: (peer: string) => void;
}

/** The replica's side of the link once it asked for the snapshot: write the RDB through it. */
export interface SnapshotWriter {
  /** host:port of the replica's connection. */
  readonly peer: string;
  /** 'psync' or 'sync' (Redis before 2.8). */
  readonly via: 'psync' | 'sync';
  /** Writes RDB bytes; resolves when the socket can take more (backpressure). Rejects if the link broke. */
  write(chunk: Buffer): Promise<void>;
  /** The link closed (by either side). */
  readonly closed: boolean;
}

type CommandCallback = (argv: string[]) => void;

/**
 * Splits what a replica sends into commands: RESP arrays of bulk strings, or inline lines split on spaces.
 * Bare newlines (keepalives) are dropped. Returns the bytes not yet complete.
 */
export function readReplicaCommands(buf: Buffer, onCommand: CommandCallback): Buffer {
  let pos = 0;
  for (;;) {
    if (pos >= buf.length) return Buffer.alloc(0);
    const c = buf[pos];
    if (c === 0x0a || c === 0x0d) {
      pos++;
      continue;
    }
    if (c === 0x2a /* '*' */) {
      const lineEnd = buf.indexOf('\r\n', pos);
      if (lineEnd < 0) return buf.subarray(pos);
      const n = Number(buf.toString('latin1', pos + 1, lineEnd));
      if (!Number.isInteger(n) || n < 0 || n > 1024) throw new Error(`bad multibulk length from the replica`);
      let p = lineEnd + 2;
      const argv: string[] = [];
      for (let i = 0; i < n; i++) {
        const e = buf.indexOf('\r\n', p);
        if (e < 0) return buf.subarray(pos);
        if (buf[p] !== 0x24 /* '$' */) throw new Error(`bad bulk header from the replica`);
        const len = Number(buf.toString('latin1', p + 1, e));
        if (!Number.isInteger(len) || len < 0 || len > 1 << 20) throw new Error(`bad bulk length from the replica`);
        if (buf.length < e + 2 + len + 2) return buf.subarray(pos);
        argv.push(buf.toString('latin1', e + 2, e + 2 + len));
        p = e + 2 + len + 2;
      }
      pos = p;
      onCommand(argv);
      continue;
    }
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) {
      if (buf.length - pos > 64 * 1024) throw new Error('inline command too long from the replica');
      return buf.subarray(pos);
    }
    const line = buf.toString('latin1', pos, nl).trim();
    pos = nl + 1;
    if (line) onCommand(line.split(/ +/));
  }
}

export class RdbMaster {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private writer: Promise<SnapshotWriter> | null = null;
  private resolveWriter: ((w: SnapshotWriter) => void) | null = null;
  private rejectWriter: ((e: Error) => void) | null = null;
  /** The replica asked for the snapshot once: later requests mean its load failed. */
  private synced = false;
  readonly replid = randomBytes(20).toString('hex');
  address = '';
  port = 0;

  constructor(private readonly opts: RdbMasterOptions) {}

  async listen(): Promise<{ host: string; port: number }> {
    const server = createServer((s) => this.accept(s));
    this.server = server;
    this.writer = new Promise<SnapshotWriter>((resolve, reject) => {
      this.resolveWriter = resolve;
      this.rejectWriter = reject;
    });
    this.writer.catch(() => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    this.address = `${this.opts.host}:${this.port}`;
    return { host: this.opts.host, port: this.port };
  }

  /** Resolves when a replica asked for the snapshot; rejects after `timeoutMs` without one. */
  async replica(timeoutMs: number): Promise<SnapshotWriter> {
    if (!this.writer) throw new Error('internal: listen() first');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the target did not connect to shake at ${this.address} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.writer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.rejectWriter?.(new Error('closed'));
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    let pending: Buffer = Buffer.alloc(0);
    let closed = false;
    let failure: Error | null = null;
    let via: 'psync' | 'sync' = 'psync';
    let drainWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
    const fail = (err: Error): void => {
      failure ??= err;
      closed = true;
      const w = drainWaiter;
      drainWaiter = null;
      w?.reject(failure);
    };
    socket.on('error', (err) => fail(new Error(`link to the target ${peer}: ${err.message}`)));
    socket.on('close', () => {
      this.sockets.delete(socket);
      fail(new Error(`the target ${peer} closed the replication link`));
    });
    socket.on('drain', () => {
      const w = drainWaiter;
      drainWaiter = null;
      w?.resolve();
    });
    const writer: SnapshotWriter = {
      peer,
      get via() {
        return via;
      },
      write: (chunk) => {
        if (failure) return Promise.reject(failure);
        if (socket.write(chunk)) return Promise.resolve();
        return new Promise<void>((resolve, reject) => (drainWaiter = { resolve, reject }));
      },
      get closed() {
        return closed;
      },
    };
    const onCommand = (argv: string[]): void => {
      const name = (argv[0] ?? '').toUpperCase();
      if (name === 'PING') socket.write('+PONG\r\n');
      else if (name === 'AUTH') socket.write('+OK\r\n');
      else if (name === 'REPLCONF') {
        // ACK carries the replica's offset and gets no reply; every other REPLCONF is accepted.
        if ((argv[1] ?? '').toUpperCase() !== 'ACK') socket.write('+OK\r\n');
      } else if (name === 'PSYNC' || name === 'SYNC') {
        if (this.synced) {
          // A second request: the load failed and the replica retries. Never send it the RDB again.
          socket.write('-ERR shake: the snapshot was already sent once\r\n');
          this.opts.onResync?.(peer);
          return;
        }
        this.synced = true;
        if (name === 'PSYNC') socket.write(`+FULLRESYNC ${this.replid} 0\r\n`);
        else via = 'sync';
        socket.write(`$${this.opts.length}\r\n`);
        this.resolveWriter?.(writer);
      } else socket.write(`-ERR shake: ${name || 'empty command'} is not served by this replication link\r\n`);
    };
    socket.on('data', (d: Buffer) => {
      try {
        pending = readReplicaCommands(pending.length ? Buffer.concat([pending, d]) : d, onCommand);
      } catch (err) {
        fail(new Error(`the target ${peer} sent ${(err as Error).message}`));
        socket.destroy();
      }
    });
  }
}
