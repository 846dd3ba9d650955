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

/** AUTH was refused: "authentication failed for <user>@<host:port>: WRONGPASS ...". */
export class RedisAuthError extends RedisConnectionError {
  override readonly name: string = 'RedisAuthError';
}
