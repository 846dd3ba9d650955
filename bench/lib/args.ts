/** Command-line options and paths shared by the benches. */
import { join } from 'node:path';

export const args = process.argv.slice(2);

/** The number after `--name`, or `def` when the option is absent. */
export function opt(name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

/** The checkout's root (benches run from dist/bench/*.js). */
export const repoRoot = join(import.meta.dirname, '..', '..', '..');
/** The CLI entry point, `bin/run.js`. */
export const cli = join(repoRoot, 'bin', 'run.js');
/** Where benches cache the datasets they build. */
export const outDir = join(repoRoot, 'bench', 'out');
