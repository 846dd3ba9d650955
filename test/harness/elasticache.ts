/**
 * What AWS ElastiCache (Redis OSS engine) refuses, so tests can check shake never depends on it.
 * Source: AWS ElastiCache user guide, "Restricted commands" (ClientConfig.RestrictedCommands):
 * bgrewriteaof, bgsave, config, debug, migrate, replicaof, save, slaveof, shutdown, sync.
 * PSYNC is not listed there but is refused too (no replication to outside hosts), and KEYS is added
 * on purpose: shake must use SCAN. The harness itself then only uses PING (readiness) and SIGTERM (stop).
 */
export const ELASTICACHE_DISABLED_COMMANDS = [
  'BGREWRITEAOF',
  'BGSAVE',
  'CONFIG',
  'DEBUG',
  'MIGRATE',
  'REPLICAOF',
  'SAVE',
  'SLAVEOF',
  'SHUTDOWN',
  'SYNC',
  'PSYNC',
  'KEYS',
] as const;
