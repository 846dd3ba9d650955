/**
 * The report: one JSON line per difference, `{"db":0,"key":"user:1","problem":"value",...detail}`, byte
 * strings (the key, members, fields, values) written as decode writes them: a JSON string when printable
 * UTF-8, else {"base64":"..."}. Function libraries: `{"db":null,"key":null,"problem":"function","library":...}`.
 * openReport writes them to a file (`--report FILE`) or stdout (`-`).
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { jsonBytes } from '../sinks/text/json-bytes.js';
import { formatScore } from '../rewrite/score.js';
import type { DetailValue, Difference } from './problems.js';

function json(v: DetailValue): string {
  if (Buffer.isBuffer(v)) return jsonBytes(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(json).join(',')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${json(x)}`)
      .join(',')}}`;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return `"${formatScore(v)}"`;
  return JSON.stringify(v);
}

export function reportLine(d: Difference): string {
  let out = `{"db":${d.db === null ? 'null' : d.db},"key":${d.key === null ? 'null' : jsonBytes(d.key)},"problem":"${d.problem}"`;
  for (const [k, v] of Object.entries(d.detail)) {
    if (k === 'db' || k === 'key' || k === 'problem') continue;
    out += `,${JSON.stringify(k)}:${json(v)}`;
  }
  return `${out}}\n`;
}

export interface ReportSink {
  write(d: Difference): void;
  close(): Promise<void>;
}

/** `-`: stdout; a path: that file (created or truncated); undefined: nothing. */
export function openReport(path: string | undefined): ReportSink {
  if (path === undefined) return { write: () => {}, close: async () => {} };
  const out: NodeJS.WritableStream | WriteStream = path === '-' ? process.stdout : createWriteStream(path);
  return {
    write: (d) => {
      out.write(reportLine(d));
    },
    close: async () => {
      if (out === process.stdout) return;
      const ws = out as WriteStream;
      ws.end();
      await once(ws, 'finish');
    },
  };
}
