/** The one error class of @shake/rdb: what was wrong, where (byte offset) and, when known, which key. */
export class RdbError extends Error {
  override readonly name = 'RdbError';
  constructor(
    message: string,
    /** Absolute byte offset in the input where the problem was found. */
    readonly offset: number,
    /** The key being read, when known. */
    readonly key?: Buffer,
  ) {
    super(message);
  }

  /** One line for humans: `<message> at byte <offset> (key "<key>")`. */
  describe(): string {
    const where = ` at byte ${this.offset}`;
    const key = this.key ? ` while reading key ${printableKey(this.key)}` : '';
    return `${this.message}${where}${key}`;
  }
}

function printableKey(key: Buffer): string {
  const s = key.toString('utf8');
  const printable = Buffer.from(s, 'utf8').equals(key) && !/[\x00-\x1f\x7f]/.test(s);
  const shown = printable ? JSON.stringify(s) : `0x${key.subarray(0, 64).toString('hex')}${key.length > 64 ? '…' : ''}`;
  return shown.length > 200 ? `${shown.slice(0, 200)}…` : shown;
}
