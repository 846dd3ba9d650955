export * from './errors.js';
export * from './types.js';
export * from './decoder.js';
export type { RespDecoderOptions, SnapshotHandler } from './decoder-options.js';
export * from './encoder.js';
export { RDB_EOF_MARK_SIZE } from './eof-mark.js';
