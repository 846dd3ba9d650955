export { RdbParser } from './rdb-parser.js';
export { parseRdb } from './parse-rdb.js';
export { VALKEY_TYPE, MAX_KNOWN_REDIS_RDB_VERSION, VALKEY_RDB_VERSION_MIN, redisTypeOfRdbType } from './layouts.js';
export { parseScore } from './context.js';
