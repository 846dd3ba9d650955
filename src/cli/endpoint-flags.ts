/**
 * The source and target flags of every subcommand that talks to a live server, the TLS flags and the flags of
 * how keys are written into a target, defined once, with the config keys they set (for BaseCommand.flagSettings).
 * Passwords are never flags: SHAKE_<END>_PASSWORD or the file.
 */
import * as Flags from '@oclif/core/flags';
import { parseShard, type ShardSpec } from '../cluster/shard.js';
import type { ShakeConfig } from '../config/schema.js';

export const sourceFlags = {
  source: Flags.string({
    char: 's',
    summary: 'Source URL (any node of a cluster): redis://[user@]host:port, rediss:// for TLS.',
  }),
  'source-user': Flags.string({ summary: 'Source ACL user (password: SHAKE_SOURCE_PASSWORD or the config file).' }),
};

export const targetFlags = {
  target: Flags.string({ char: 't', summary: 'Target URL: redis://[user@]host:port, rediss:// for TLS.' }),
  'target-user': Flags.string({ summary: 'Target ACL user (password: SHAKE_TARGET_PASSWORD or the config file).' }),
};

/** How keys are written into a live target: the [restore] settings restore, rump and sync share. */
export const writeFlags = {
  'big-key-threshold': Flags.string({ summary: 'Values above this size go as streamed commands (default 16mb).' }),
  'db-map': Flags.string({ summary: 'Source db -> target db, e.g. 0:5,1:6 or *:0.' }),
  connections: Flags.integer({ min: 1, summary: 'Pipelined connections per target master (default 2).' }),
  pipeline: Flags.integer({ min: 1, summary: 'Commands per pipelined batch (default 1024).' }),
};

/** TLS options given once for both ends: they apply to the end(s) that use TLS (tlsSettings). */
export const tlsFlags = {
  'tls-ca': Flags.string({ summary: 'CA bundle (PEM) to verify the TLS end(s) with.' }),
  'tls-insecure': Flags.boolean({ summary: 'Do not verify TLS certificates (testing only).' }),
};

/**
 * The config keys --tls-ca / --tls-insecure set, for each end that uses TLS in `config` (a rediss:// URL or
 * tls = true), with the flag names for loadConfig's messages.
 */
export function tlsSettings(
  config: ShakeConfig,
  f: { 'tls-ca'?: string; 'tls-insecure'?: boolean },
): { values: Record<string, unknown>; names: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  for (const end of ['source', 'target'] as const) {
    if (!(config[end].tls || config[end].url.startsWith('rediss://'))) continue;
    if (f['tls-ca'] !== undefined) values[`${end}.tls_ca`] = f['tls-ca'];
    if (f['tls-insecure']) values[`${end}.tls_insecure`] = true;
    names[`${end}.tls_ca`] = '--tls-ca';
    names[`${end}.tls_insecure`] = '--tls-insecure';
  }
  return { values, names };
}

/** `section.key` -> flag, for the flags above (and --target-type, whose choices differ per subcommand). */
export const SOURCE_KEYS: Record<string, string> = { 'source.url': 'source', 'source.user': 'source-user' };
/** --shard INDEX/COUNT (sync, dump, rump, check): a share of a cluster source's masters. */
export const shardFlags = {
  shard: Flags.string({
    summary: "INDEX/COUNT: read only this share of a cluster source's masters (by node id), e.g. 0/3.",
  }),
};
export const SHARD_KEYS: Record<string, string> = { 'source.shard': 'shard' };

/** The shard `[source] shard` / --shard names, if any. */
export function shardSetting(config: ShakeConfig): ShardSpec | undefined {
  return config.source.shard ? parseShard(config.source.shard) : undefined;
}
export const TARGET_KEYS: Record<string, string> = {
  'target.url': 'target',
  'target.user': 'target-user',
  'target.type': 'target-type',
};
export const WRITE_KEYS: Record<string, string> = {
  'restore.big_key_threshold': 'big-key-threshold',
  'restore.db_map': 'db-map',
  'restore.connections': 'connections',
  'restore.pipeline': 'pipeline',
};
