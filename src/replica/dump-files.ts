/**
 * Where a dump goes: one file for a standalone server; for a cluster one file per master, named by node
 * (`<stem>-<nodeid8>-<host>-<port>.rdb` beside `-o`), plus the manifest `<stem>.manifest.json` that
 * `shake restore` accepts: {version:1, nodes:[{id,host,port,slots:[[a,b]],file}]} with file names relative
 * to the manifest. The manifest is written last, and only when every node's file is complete.
 */
import { randomBytes } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { DumpManifestNode } from '../sources/manifest.js';

/** What this writer produces: the format sources/manifest.ts reads back (node files relative to the manifest). */
export interface DumpManifest {
  version: 1;
  nodes: DumpManifestNode[];
}

function stemOf(output: string): string {
  const base = basename(output);
  const ext = extname(base);
  return ext === '.rdb' ? base.slice(0, -ext.length) : base;
}

function safe(part: string): string {
  return part.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** File name (no directory) of one master's RDB in a cluster dump. */
export function nodeFileName(output: string, node: { id: string; host: string; port: number }): string {
  const id8 = node.id ? node.id.slice(0, 8) : 'noid';
  return `${stemOf(output)}-${safe(id8)}-${safe(node.host)}-${node.port}.rdb`;
}

export function manifestPath(output: string): string {
  return join(dirname(output), `${stemOf(output)}.manifest.json`);
}

/** Writes the manifest atomically (temporary file + rename). */
export async function writeManifest(path: string, manifest: DumpManifest): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
  await rename(tmp, path);
}
