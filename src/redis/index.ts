export type { CallerArgv, RedisCaller } from './caller.js';
export * from './connection.js';
export { connect } from './connect.js';
export { LazyConnection } from './lazy.js';
export * from './errors.js';
export * from './options.js';
export { parseRedisUrl } from './url.js';
