import { RespServerError } from '@shake/resp';

/** Errors of shake's own data-path connection; the message always names host:port. */
export class RedisConnectionError extends Error {
  override readonly name: string = 'RedisConnectionError';
  constructor(
    message: string,
    /** host:port of the server. */
    readonly address: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The server refused who we are (NOAUTH, WRONGPASS, NOPERM, or an old server's "invalid password"): the message is
 * the one line a user sees, from describeRefusal.
 */
export class RedisAuthError extends RedisConnectionError {
  override readonly name: string = 'RedisAuthError';
}

/** Which end of a run a connection belongs to, for messages (set by connectionFromSection). */
export type Side = 'source' | 'target';

/**
 * NOAUTH (a password is needed), WRONGPASS and the "invalid password" of servers before 6.0 (the password or user is
 * wrong), NOPERM (the ACL user may not run a command or touch a key): the refusals that only the user can fix.
 */
export type Refusal = 'NOAUTH' | 'WRONGPASS' | 'NOPERM';

export function refusalOf(message: string): Refusal | null {
  if (/^NOAUTH\b/.test(message)) return 'NOAUTH';
  if (/^NOPERM\b/.test(message)) return 'NOPERM';
  if (/^WRONGPASS\b|^ERR invalid (username-)?password/i.test(message)) return 'WRONGPASS';
  // A password given to a server that has none (AUTH refused): the password setting is wrong too.
  if (/^ERR (Client sent AUTH, but no password is set|AUTH <password> called without any password)/i.test(message)) {
    return 'WRONGPASS';
  }
  return null;
}

/**
 * The one line for a refusal, naming the server and its side and saying how to give the password:
 * `target 127.0.0.1:6380 needs a password (NOAUTH Authentication required.): set SHAKE_TARGET_PASSWORD or password
 * in [target] of the config file (...)`. Other messages are returned as they are.
 */
export function describeRefusal(message: string, at: { address: string; side?: Side; username?: string }): string {
  const kind = refusalOf(message);
  if (kind === null) return message;
  const side = at.side ?? 'server';
  const env = at.side ? `SHAKE_${at.side.toUpperCase()}_PASSWORD` : 'SHAKE_SOURCE_PASSWORD / SHAKE_TARGET_PASSWORD';
  const section = at.side ? `[${at.side}]` : '[source]/[target]';
  const userFlag = at.side ? `--${at.side}-user` : '--source-user/--target-user';
  const setting = `${env} or password in ${section} of the config file`;
  const user = at.username ?? 'default';
  const head = `${side} ${at.address}`;
  const reply = message.trim();
  switch (kind) {
    case 'NOAUTH':
      return `${head} needs a password (${reply}): set ${setting} (a password in the URL works too, but shows in the process list)`;
    case 'WRONGPASS':
      return `${head} refused the password of user ${user} (${reply}): check ${setting}, and the user (${userFlag})`;
    case 'NOPERM':
      return (
        `${head}: user ${user} lacks a permission shake needs (${reply}): grant it (ACL SETUSER ${user} ...) ` +
        `or connect as a user who has it (${userFlag}, with ${env} or [${at.side ?? 'source/target'}] password)`
      );
  }
}

/** An error reply that is a refusal: `code` as the server sent it, `message` described (describeRefusal). */
export class RefusalReply extends RespServerError {
  /** The server's own words. */
  readonly original: string;
  constructor(reply: RespServerError, at: Parameters<typeof describeRefusal>[1]) {
    super(reply.message);
    this.original = reply.message;
    this.message = describeRefusal(reply.message, at);
  }
}

/** The reply as the connection hands it on: a refusal described, anything else as it is. */
export function describeReply<T>(reply: T, at: Parameters<typeof describeRefusal>[1]): T | RefusalReply {
  return reply instanceof RespServerError && refusalOf(reply.message) !== null ? new RefusalReply(reply, at) : reply;
}

/** True for a message that holds a described refusal (a failed key's "RESTORE: target ... needs a password ..."). */
export function holdsRefusal(message: string): boolean {
  return /\b(source|target|server) \S+( needs a password| refused the password of user |: user \S+ lacks a permission shake needs)/.test(
    message,
  );
}
