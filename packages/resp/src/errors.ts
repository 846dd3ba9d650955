/** Thrown on a RESP protocol violation: carries the byte offset in the stream and the offending byte. */
export class RespError extends Error {
  override readonly name = 'RespError';
  constructor(
    message: string,
    readonly offset: number,
    readonly byte?: number,
  ) {
    super(message);
  }
}
