/**
 * A reference program the benches run where it is present but that neither Debian nor npm provides (librdb's
 * rdb-cli, RedisFullCheck): the path in the environment variable `env` (then that one or an error: no falling
 * back to another copy), else ~/.cache/<cache>/bin/<name>, else <name> on the PATH. `probe` runs a candidate and
 * says what it answered (e.g. its version), or null when it is not a working copy.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface ToolSpec {
  env: string;
  cache: string;
  name: string;
  probe: (path: string) => string | null;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first working candidate and what its probe said; null when none; throws when `env` names a broken one. */
export function findTool(spec: ToolSpec): { path: string; answer: string } | null {
  const fromEnv = process.env[spec.env];
  const candidates = fromEnv
    ? [fromEnv]
    : [
        join(homedir(), '.cache', spec.cache, 'bin', spec.name),
        ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, spec.name)),
      ];
  for (const path of candidates) {
    if (!executable(path)) continue;
    const answer = spec.probe(path);
    if (answer !== null) return { path, answer };
  }
  if (fromEnv) throw new Error(`${spec.env}=${fromEnv} is not a working ${spec.name}`);
  return null;
}
