/**
 * The source and target flags of every subcommand that talks to a live server, defined once, with the config
 * keys they set (for BaseCommand.flagSettings). Passwords are never flags: SHAKE_<END>_PASSWORD or the file.
 */
import { Flags } from '@oclif/core';

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

/** `section.key` -> flag, for the flags above (and --target-type, whose choices differ per subcommand). */
export const SOURCE_KEYS: Record<string, string> = { 'source.url': 'source', 'source.user': 'source-user' };
export const TARGET_KEYS: Record<string, string> = {
  'target.url': 'target',
  'target.user': 'target-user',
  'target.type': 'target-type',
};
