export * from './lzf.js';
export * from './crc64.js';
export * from './crc64-wasm.js';
export * from './int-string.js';
export * from './ziplist.js';
export * from './listpack.js';
export * from './intset.js';
export * from './zipmap.js';
