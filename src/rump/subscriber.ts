/**
 * A key-event subscriber on one source node: PSUBSCRIBE __keyevent@*__:* over shake's own connection (so
 * TLS and ACL users work as for every other connection), then the raw socket is taken over and decoded
 * here, since a subscribed connection receives messages nobody asked for. Each `pmessage` becomes
 * onEvent(db, event, key) synchronously (the handler must be cheap: the server drops a subscriber whose
 * output buffer grows past client-output-buffer-limit pubsub). Losing the connection calls onLost once.
 */
import { RespServerError, type RespValue } from '@shake/resp';
import type { Socket } from 'node:net';
import { connect, type ConnectionOptions } from '../redis/index.js';

export const KEYEVENT_PATTERN = '__keyevent@*__:*';

export interface KeyEvent {
  db: number;
  /** The event name: set, del, expired, hset, ... */
  event: string;
  /** A copy (safe to keep). */
  key: Buffer;
}

export interface SubscriberOptions {
  connection: ConnectionOptions;
  onEvent(e: KeyEvent): void;
  /** The subscription ended without close() being called (the server or the network dropped it). */
  onLost(reason: string): void;
  /** How long to wait for the subscription to be confirmed (default 10 s). */
  timeoutMs?: number;
}

const PREFIX = '__keyevent@';

/** Parses `__keyevent@<db>__:<event>`; null for anything else. */
export function parseKeyeventChannel(channel: Buffer): { db: number; event: string } | null {
  const s = channel.toString('latin1');
  if (!s.startsWith(PREFIX)) return null;
  const end = s.indexOf('__:', PREFIX.length);
  if (end < 0) return null;
  const dbText = s.slice(PREFIX.length, end);
  if (!/^\d+$/.test(dbText)) return null;
  return { db: Number(dbText), event: s.slice(end + 3) };
}

function text(v: RespValue | undefined): string {
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  return typeof v === 'string' ? v : '';
}

export class KeyeventSubscriber {
  private socket: Socket | null = null;
  private closing = false;
  private lost = false;
  /** Messages received (all channels). */
  messages = 0;

  constructor(private readonly opts: SubscriberOptions) {}

  /** Connects and subscribes; resolves once the server has confirmed the subscription. */
  async start(): Promise<void> {
    const conn = await connect({ ...this.opts.connection, db: undefined });
    const address = conn.address;
    let confirm!: { resolve(): void; reject(err: Error): void };
    const confirmed = new Promise<void>((resolve, reject) => (confirm = { resolve, reject }));
    let subscribed = false;
    const taken = conn.takeOver({
      onReply: (reply) => {
        if (reply instanceof RespServerError) {
          if (!subscribed) confirm.reject(new Error(`PSUBSCRIBE on ${address} failed: ${reply.message}`));
          return;
        }
        if (!Array.isArray(reply)) return;
        const kind = text(reply[0] as RespValue).toLowerCase();
        if (kind === 'pmessage') {
          this.messages++;
          const channel = reply[2];
          const key = reply[3];
          if (!Buffer.isBuffer(channel) || !Buffer.isBuffer(key)) return;
          const parsed = parseKeyeventChannel(channel);
          if (parsed) this.opts.onEvent({ db: parsed.db, event: parsed.event, key: Buffer.from(key) });
        } else if (kind === 'psubscribe') {
          subscribed = true;
          confirm.resolve();
        }
      },
    });
    const socket = taken.socket;
    this.socket = socket;
    const onGone = (why: string): void => {
      if (!subscribed) confirm.reject(new Error(`subscriber connection to ${address} ${why}`));
      if (this.closing || this.lost) return;
      this.lost = true;
      this.opts.onLost(`the subscriber connection to ${address} ${why}`);
    };
    let lastError = '';
    socket.on('error', (err: Error) => (lastError = `: ${err.message}`));
    socket.on('close', () => onGone(`was closed${lastError}`));
    taken.send(['PSUBSCRIBE', KEYEVENT_PATTERN]);
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const timer = setTimeout(
      () => confirm.reject(new Error(`PSUBSCRIBE on ${address}: no confirmation after ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      await confirmed;
    } catch (err) {
      this.closing = true;
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.closing = true;
    this.socket?.destroy();
    this.socket = null;
  }
}
