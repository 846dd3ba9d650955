/** Options of shake's data-path connection (see connection.ts). */
import { defaultConfig } from '../config/schema.js';
import type { Side } from './errors.js';

export interface TlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  tls?: TlsOptions;
  /** ACL user (Redis 6+); with only a password, AUTH <password> authenticates the default user. */
  username?: string;
  password?: string;
  /** SELECT this database after connecting (skipped for 0). */
  db?: number;
  /**
   * source or target: refusals (NOAUTH, WRONGPASS, NOPERM) name it and say how to give the password, and connect()
   * checks with PING that no password is missing when none is given.
   */
  side?: Side;
  /** CLIENT SETNAME. */
  name?: string;
  /** Connect + TLS + handshake deadline (default: the schema's connect_timeout_ms). */
  connectTimeoutMs?: number;
  /** Commands written and not yet answered, at most (default 10000). */
  maxInflightCommands?: number;
  /** Bytes of commands written and not yet answered, at most (default 64 MiB; one bigger command may pass alone). */
  maxInflightBytes?: number;
  /** Socket write buffer size before write() asks us to wait for 'drain' (default 1 MiB). */
  writeBufferBytes?: number;
  /** Largest bulk reply accepted (default 512 MiB). */
  maxBulkLength?: number;
}

/**
 * The connect deadline is the setting's default ([source]/[target] connect_timeout_ms); the rest are fixed
 * bounds of one connection, not settings (what the sink keeps in flight is [restore] pipeline x inflight_batches,
 * well below them: sinks/redis/conn-writer.ts).
 */
export const CONNECTION_DEFAULTS = {
  connectTimeoutMs: defaultConfig().source.connect_timeout_ms,
  maxInflightCommands: 10_000,
  maxInflightBytes: 64 * 1024 * 1024,
  writeBufferBytes: 1024 * 1024,
} as const;
