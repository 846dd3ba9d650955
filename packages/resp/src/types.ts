/**
 * RESP wire types (RESP2 + RESP3), with the type byte beside the name, and the values the decoder produces.
 * Spec: https://github.com/redis/redis-specifications/blob/master/protocol/RESP3.md
 */
export const RESP_TYPE = {
  SIMPLE_STRING: 0x2b, // +
  SIMPLE_ERROR: 0x2d, // -
  INTEGER: 0x3a, // :
  BULK_STRING: 0x24, // $
  ARRAY: 0x2a, // *
  NULL: 0x5f, // _
  DOUBLE: 0x2c, // ,
  BOOLEAN: 0x23, // #
  BULK_ERROR: 0x21, // !
  VERBATIM_STRING: 0x3d, // =
  BIG_NUMBER: 0x28, // (
  MAP: 0x25, // %
  SET: 0x7e, // ~
  PUSH: 0x3e, // >
  ATTRIBUTE: 0x7c, // |
} as const;

export type RespTypeByte = (typeof RESP_TYPE)[keyof typeof RESP_TYPE];

/**
 * An error reply (`-ERR ...` or RESP3 `!<len>` bulk error). The decoder delivers it as a VALUE, never throws it.
 * `code` is the first word of the message (ERR, WRONGTYPE, MOVED, WRONGPASS, ...).
 */
export class RespServerError extends Error {
  override readonly name = 'RespServerError';
  readonly code: string;
  constructor(message: string) {
    super(message);
    const space = message.indexOf(' ');
    this.code = space === -1 ? message : message.slice(0, space);
  }
}

/** RESP3 verbatim string (`=`): a 3-letter format (`txt`, `mkd`) and the text itself. */
export class VerbatimString {
  constructor(
    readonly format: string,
    readonly value: Buffer,
  ) {}
  toString(): string {
    return this.value.toString('utf8');
  }
}

/**
 * A decoded reply:
 * - `+` simple string: string; `-` / `!` error: RespServerError
 * - `:` integer: number, or bigint beyond Number.MAX_SAFE_INTEGER; `(` big number: always bigint
 * - `$` bulk string: Buffer (a view into the chunk when it fits in one), null for `$-1`
 * - `*` array, `~` set, `>` push (when nested): RespValue[]; `*-1`: null
 * - `%` map: Map (keys as decoded: bulk keys are Buffers, so iterate rather than `get`), or an array of
 *   [key, value] pairs with the option `mapAs: 'pairs'`
 * - `_` null: null; `#` boolean: boolean; `,` double: number (incl. Infinity, NaN); `=`: VerbatimString
 */
export type RespValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Buffer
  | RespServerError
  | VerbatimString
  | RespValue[]
  | Map<RespValue, RespValue>
  | Array<[RespValue, RespValue]>;
