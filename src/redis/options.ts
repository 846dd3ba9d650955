/** Options of shake's data-path connection (see connection.ts). */
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
  /** CLIENT SETNAME. */
  name?: string;
  /** Connect + TLS + handshake deadline (default 10 s). */
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

export const CONNECTION_DEFAULTS = {
  connectTimeoutMs: 10_000,
  maxInflightCommands: 10_000,
  maxInflightBytes: 64 * 1024 * 1024,
  writeBufferBytes: 1024 * 1024,
} as const;
