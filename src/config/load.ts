/**
 * Loads the configuration: schema defaults < INI file < environment < flags. Every layer is a map of
 * `section.key` -> raw value that passes through the one schema (src/config/schema.ts); the first bad
 * value becomes a one-line ConfigError naming the key, the value, what is allowed and where it came from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseIni } from 'ini';
import type * as z from 'zod';
import { ConfigError } from './errors.js';
import { configSchema, SECRET_KEYS, SECTIONS, sectionKeys, type SectionName, type ShakeConfig } from './schema.js';

export interface LoadConfigOptions {
  /** --config FILE; when absent, ./shake.conf in `cwd` if it exists, else no file. */
  configPath?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from flags keyed `section.key`; undefined means "not given". */
  flags?: Record<string, unknown>;
  /** How each flag was spelled (for messages), keyed `section.key`, e.g. `--format`. */
  flagNames?: Record<string, string>;
}

export interface LoadedConfig {
  config: ShakeConfig;
  /** The file that was read, or null. */
  file: string | null;
}

type Layer = Map<string, { value: unknown; origin: string }>;

export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const file = resolveConfigFile(opts.configPath, cwd);
  const merged: Layer = new Map();
  if (file) for (const [k, v] of readIniLayer(file)) merged.set(k, v);
  for (const [k, v] of envLayer(opts.env ?? process.env)) merged.set(k, v);
  for (const [k, v] of flagLayer(opts.flags ?? {}, opts.flagNames ?? {})) merged.set(k, v);
  return { config: parseLayer(merged), file };
}

function resolveConfigFile(configPath: string | undefined, cwd: string): string | null {
  if (configPath !== undefined) {
    const p = resolve(cwd, configPath);
    if (!existsSync(p)) throw new ConfigError(`config file ${configPath} does not exist`);
    return p;
  }
  const p = resolve(cwd, 'shake.conf');
  return existsSync(p) ? p : null;
}

function readIniLayer(file: string): Layer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  const parsed = parseIni(text) as Record<string, unknown>;
  const layer: Layer = new Map();
  for (const [section, body] of Object.entries(parsed)) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ConfigError(
        `${file}: ${section} = ${String(body)} is outside a section (put it under [source], [target], ...)`,
      );
    }
    if (!isSection(section)) {
      throw new ConfigError(`${file}: [${section}] is not a known section (known: ${SECTIONS.join(', ')})`);
    }
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      if (Array.isArray(value) || (value !== null && typeof value === 'object')) {
        throw new ConfigError(`${section}.${key}: a single value is expected (in ${file})`);
      }
      layer.set(`${section}.${key}`, { value: value === null ? '' : value, origin: `in ${file}` });
    }
  }
  return layer;
}

/** SHAKE_<SECTION>_<KEY>, e.g. SHAKE_SOURCE_PASSWORD, SHAKE_RESTORE_ON_CONFLICT. Other SHAKE_* names are ignored. */
function envLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = new Map();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith('SHAKE_')) continue;
    const rest = name.slice('SHAKE_'.length);
    const cut = rest.indexOf('_');
    if (cut <= 0) continue;
    const section = rest.slice(0, cut).toLowerCase();
    if (!isSection(section)) continue;
    layer.set(`${section}.${rest.slice(cut + 1).toLowerCase()}`, { value, origin: `from ${name}` });
  }
  return layer;
}

function flagLayer(flags: Record<string, unknown>, names: Record<string, string>): Layer {
  const layer: Layer = new Map();
  for (const [path, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const shown = names[path] ?? path;
    if (SECRET_KEYS.has(path)) {
      const [section = '', key = ''] = path.split('.');
      throw new ConfigError(
        `${path} cannot be given on the command line (${shown}); set SHAKE_${section.toUpperCase()}_${key.toUpperCase()} or put it in the config file`,
      );
    }
    layer.set(path, { value, origin: `from ${shown}` });
  }
  return layer;
}

function parseLayer(layer: Layer): ShakeConfig {
  const raw: Record<string, Record<string, unknown>> = {};
  for (const [path, { value, origin }] of layer) {
    const [section = '', key = ''] = splitPath(path);
    if (!isSection(section)) throw new ConfigError(`${path}: unknown section ${section} (${origin})`);
    if (!sectionKeys(section).includes(key)) {
      throw new ConfigError(
        `${path}: unknown key (${origin}; known in [${section}]: ${sectionKeys(section).join(', ')})`,
      );
    }
    (raw[section] ??= {})[key] = value;
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(describeIssue(result.error.issues[0], layer));
}

function describeIssue(issue: z.core.$ZodIssue | undefined, layer: Layer): string {
  if (!issue) return 'invalid configuration';
  const path = issue.path.map(String).join('.');
  const origin = layer.get(path)?.origin;
  return `${path}: ${issue.message}${origin ? ` (${origin})` : ''}`;
}

function splitPath(path: string): [string, string] {
  const cut = path.indexOf('.');
  return cut < 0 ? [path, ''] : [path.slice(0, cut), path.slice(cut + 1)];
}

function isSection(name: string): name is SectionName {
  return (SECTIONS as string[]).includes(name);
}
