export * from './constants.js';
export * from './types.js';
export * from './errors.js';
export * from './encodings/index.js';
export * from './versions.js';
export * from './writer/index.js';
