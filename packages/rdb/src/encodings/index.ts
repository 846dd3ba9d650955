export * from './lzf.js';
export * from './crc64.js';
export * from './int-string.js';
