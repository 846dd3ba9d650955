/**
 * The key-selection flags of decode, restore, rump, sync and check, defined once, and how they become the filter options
 * of transforms/filter.ts (the one key filter).
 */
import * as Flags from '@oclif/core/flags';
import type { RedisType } from '@shake/rdb';
import type { KeySelection } from '../transforms/filter.js';
import { regexFlag } from './regex-flag.js';

export type { KeySelection } from '../transforms/filter.js';

export const REDIS_TYPES = ['string', 'list', 'set', 'zset', 'hash', 'stream', 'module'] as const;

/** Which keys to take: db, glob, regex, type. */
export const selectFlags = {
  db: Flags.integer({ multiple: true, min: 0, summary: 'Only this source database (repeatable; default every db).' }),
  key: Flags.string({ multiple: true, summary: 'Only keys matching this Redis glob (repeatable).' }),
  'key-regex': Flags.string({ summary: 'Only keys matching this regular expression (on the UTF-8 key).' }),
  type: Flags.string({ multiple: true, options: [...REDIS_TYPES], summary: 'Only keys of this type (repeatable).' }),
};

/** Which keys to leave out. */
export const excludeFlags = {
  exclude: Flags.string({ multiple: true, summary: 'Leave out keys matching this Redis glob (repeatable).' }),
  'exclude-regex': Flags.string({ summary: 'Leave out keys matching this regular expression.' }),
};

/** The filter options the parsed flags ask for (absent flags: absent options; a bad regex: a one-line error). */
export function keySelection(f: {
  db?: number[];
  key?: string[];
  'key-regex'?: string;
  type?: string[];
  exclude?: string[];
  'exclude-regex'?: string;
}): KeySelection {
  return {
    dbs: f.db,
    keyGlobs: f.key,
    keyRegex: regexFlag('key-regex', f['key-regex']),
    excludeGlobs: f.exclude,
    excludeRegex: regexFlag('exclude-regex', f['exclude-regex']),
    types: f.type as RedisType[] | undefined,
  };
}
