/**
 * Before `--live` trusts key-event notifications on a node, it checks they are on. Where CONFIG is allowed,
 * CONFIG GET notify-keyspace-events says so exactly. Where it is not (AWS ElastiCache and similar), a probe:
 * a few writes to throwaway keys that hash to the node's own slots (SET, LPUSH, SADD, HSET, ZADD, XADD,
 * DEL, and a key with a 1 ms TTL read back so it expires), each of which must come back as its key event
 * on the already running subscription within a deadline. The evicted class cannot be provoked and is
 * assumed from the others. Either way a failure names the value to set.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { checkNotifyValue, notifyAdvice } from './notify-flags.js';
import { keyOnNode, type ConnectSource, type SourceConnection, type SourceNode } from './source-nodes.js';
import type { KeyEvent } from './subscriber.js';

export interface NotifyCheckOptions {
  node: SourceNode;
  /** A connection to the node itself (for CONFIG GET). */
  conn: SourceConnection;
  connectSource: ConnectSource;
  /** Installs a listener for the node's key events; returns the function that removes it. */
  listen(onEvent: (e: KeyEvent) => void): () => void;
  timeoutMs?: number;
}

/** Every probe key starts with this (the live loop ignores their events; an ACL can allow writes to them only). */
export const PROBE_PREFIX = 'shake-rump-probe:';

/** The class each probe event stands for. */
const PROBES: [event: string, cls: string][] = [
  ['set', '$'],
  ['lpush', 'l'],
  ['sadd', 's'],
  ['hset', 'h'],
  ['zadd', 'z'],
  ['xadd', 't'],
  ['del', 'g'],
  ['expired', 'x'],
];

export class NotifyCheckError extends Error {
  override readonly name = 'NotifyCheckError';
}

/** Resolves when notifications are on; throws NotifyCheckError (with the value to set) when not. */
export async function checkNotifications(opts: NotifyCheckOptions): Promise<'config' | 'probe'> {
  const { node } = opts;
  const reply = await opts.conn.call(['CONFIG', 'GET', 'notify-keyspace-events']);
  let configRefused = '';
  if (reply instanceof Error) {
    configRefused = reply.message;
  } else {
    const value = configValue(reply);
    if (value !== null) {
      const check = checkNotifyValue(value);
      if (check.ok) return 'config';
      throw new NotifyCheckError(
        notifyAdvice(node.addr, `notify-keyspace-events is "${value}", missing ${check.missing.join('')}`),
      );
    }
    configRefused = 'unexpected reply';
  }
  await probe(opts, configRefused);
  return 'probe';
}

function configValue(reply: unknown): string | null {
  if (reply instanceof Map) {
    for (const v of reply.values()) return String(v);
    return null;
  }
  if (!Array.isArray(reply) || reply.length < 2) return null;
  const v: unknown = reply[1];
  return Buffer.isBuffer(v) ? v.toString('latin1') : typeof v === 'string' ? v : null;
}

async function probe(opts: NotifyCheckOptions, configRefused: string): Promise<void> {
  const { node } = opts;
  const base = keyOnNode(node, `${PROBE_PREFIX}${randomBytes(6).toString('hex')}:`);
  const k = (suffix: string): Buffer => Buffer.from(`${base}:${suffix}`);
  const expected = node.role === 'replica' ? PROBES.filter(([e]) => e !== 'expired') : PROBES;
  const seen = new Set<string>();
  let wake: (() => void) | null = null;
  const stop = opts.listen((e) => {
    if (!e.key.toString('latin1').startsWith(base)) return;
    seen.add(e.event);
    wake?.();
  });
  const writer = await opts.connectSource(node.master);
  try {
    const replies = await writer.sendBatch([
      ['SET', k('s'), '1', 'PX', '60000'],
      ['LPUSH', k('l'), 'a'],
      ['SADD', k('set'), 'a'],
      ['HSET', k('h'), 'a', 'b'],
      ['ZADD', k('z'), '1', 'a'],
      ['XADD', k('t'), '*', 'a', 'b'],
      ['DEL', k('s'), k('l'), k('set'), k('h'), k('z'), k('t')],
      ['SET', k('x'), '1', 'PX', '1'],
    ]);
    const refused = replies.find((r) => r instanceof Error) as Error | undefined;
    if (refused) {
      throw new NotifyCheckError(
        `cannot tell whether keyspace notifications are on at ${node.addr}: CONFIG GET was refused ` +
          `(${configRefused}) and the probe write was refused too (${refused.message}). Make sure ` +
          `notify-keyspace-events is "EA" (e.g. "KEA") and start again with --no-notify-check`,
      );
    }
    await sleep(5);
    // Reading an expired key deletes it there and then (lazy expiry): the 'expired' event follows.
    await writer.call(['EXISTS', k('x')]);
    const deadline = Date.now() + (opts.timeoutMs ?? 3000);
    while (expected.some(([e]) => !seen.has(e)) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
      wake = null;
    }
  } finally {
    stop();
    await writer.call(['DEL', k('x')]).catch(() => {});
    await writer.close().catch(() => {});
  }
  const missing = expected.filter(([e]) => !seen.has(e)).map(([, cls]) => cls);
  if (missing.length === 0) return;
  const detail =
    missing.length === expected.length
      ? 'no key event arrived for the probe writes'
      : `no key event for the classes ${missing.join('')}`;
  throw new NotifyCheckError(notifyAdvice(node.addr, `${detail}; CONFIG GET is refused: ${configRefused}`));
}
