/**
 * The one error class of the replication client. `kind` says what went wrong so callers can decide:
 * 'refused' (the source will not let us be a replica: SYNC/PSYNC renamed away as on AWS ElastiCache,
 * or -NOPERM) is the signal for `shake dump` to fall back to SCAN + DUMP.
 */
export type ReplicationErrorKind =
  /** PSYNC and SYNC unknown, renamed away or forbidden by ACL (-NOPERM). */
  | 'refused'
  /** The master answered with an error while we waited for the snapshot (-ERR, -LOADING, -NOMASTERLINK...). */
  | 'aborted'
  /** The master closed the connection before the transfer was complete. */
  | 'closed'
  /** No byte (not even a keepalive newline) for longer than the configured timeout. */
  | 'timeout'
  /** Bytes that are not the replication protocol. */
  | 'protocol'
  /** The snapshot arrived but its trailing CRC64 does not match its content, or it is not an RDB. */
  | 'checksum';

export class ReplicationError extends Error {
  override readonly name = 'ReplicationError';
  constructor(
    readonly kind: ReplicationErrorKind,
    message: string,
    /** host:port of the master. */
    readonly peer: string,
  ) {
    super(message);
  }
}
