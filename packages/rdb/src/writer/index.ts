export * from './serialize.js';
export * from './value-encoder.js';
export * from './rdb-writer.js';
export * from './encode-value.js';
