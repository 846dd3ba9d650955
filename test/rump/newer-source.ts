/**
 * A stand-in for a source NEWER than the installed redis-server (7.2, 7.4, 8.0, Valkey 8), which this
 * machine cannot run: it answers the commands rump sends (INFO, SELECT, SCAN, PEXPIRETIME, DUMP, FUNCTION
 * LIST, PING) from a fixture RDB written by that server. Its DUMP replies are exactly what that server's
 * DUMP returns: the type byte, the value as the server serialized it (the bytes of the RDB file after the
 * key name, rdbSaveObject's output in both cases), its RDB version, CRC64.
 */
import { readFileSync } from 'node:fs';
import { RdbParser, buildDumpPayloadBuffer } from '@shake/rdb';
import { RespServerError, type RespValue } from '@shake/resp';
import type { SourceConnection } from '../../src/rump/source-nodes.js';
import { compileGlob } from '../../src/transforms/glob.js';

interface FakeKey {
  key: Buffer;
  payload: Buffer;
  expireAtMs: number | null;
  type: string;
}

export interface NewerSource {
  connect(): Promise<SourceConnection>;
  rdbVersion: number;
  /** DUMP commands answered (all connections). */
  dumps: number;
}

export function newerSourceFromRdb(file: string, info: { redisVersion: string; valkeyVersion?: string }): NewerSource {
  const parser = new RdbParser({ captureRawLimit: 1 << 30 });
  const events = [...parser.push(readFileSync(file)), ...(parser.done ? [] : parser.end())];
  const dbs = new Map<number, FakeKey[]>();
  const functions: Buffer[] = [];
  let rdbVersion = 0;
  for (const e of events) {
    if (e.kind === 'header') rdbVersion = e.version;
    else if (e.kind === 'function') functions.push(e.code);
    else if (e.kind === 'key-end') {
      if (!e.raw) throw new Error('value not captured');
      const h = e.header;
      const list = dbs.get(h.db) ?? [];
      list.push({
        key: h.key,
        payload: buildDumpPayloadBuffer(h.rdbType, e.raw, rdbVersion),
        expireAtMs: h.expireAtMs,
        type: h.type,
      });
      dbs.set(h.db, list);
    }
  }
  const src: NewerSource = {
    rdbVersion,
    dumps: 0,
    connect: async () => {
      let db = 0;
      const byName = (): Map<string, FakeKey> => new Map((dbs.get(db) ?? []).map((k) => [k.key.toString('latin1'), k]));
      let index = byName();
      const one = (argv: ReadonlyArray<string | Buffer>): RespValue => {
        const name = String(argv[0]).toUpperCase();
        const arg = (i: number): Buffer => Buffer.from(argv[i] ?? '');
        switch (name) {
          case 'PING':
            return 'PONG';
          case 'INFO': {
            const lines = [
              `redis_version:${info.redisVersion}`,
              'arch_bits:64',
              'used_memory:1000',
              'cluster_enabled:0',
            ];
            if (info.valkeyVersion) lines.push(`valkey_version:${info.valkeyVersion}`);
            for (const [n, keys] of dbs) {
              const expires = keys.filter((k) => k.expireAtMs !== null).length;
              lines.push(`db${n}:keys=${keys.length},expires=${expires},avg_ttl=0`);
            }
            return Buffer.from(lines.join('\r\n') + '\r\n');
          }
          case 'SELECT':
            db = Number(String(argv[1]));
            index = byName();
            return 'OK';
          case 'SCAN': {
            const keys = dbs.get(db) ?? [];
            const cursor = Number(String(argv[1]));
            let count = 10;
            let match: ((k: Buffer) => boolean) | null = null;
            let type: string | null = null;
            for (let i = 2; i + 1 < argv.length; i += 2) {
              const opt = String(argv[i]).toUpperCase();
              if (opt === 'COUNT') count = Number(String(argv[i + 1]));
              else if (opt === 'MATCH') match = compileGlob(arg(i + 1));
              else if (opt === 'TYPE') type = String(argv[i + 1]);
            }
            const page = keys
              .slice(cursor, cursor + count)
              .filter((k) => (!match || match(k.key)) && (!type || k.type === type))
              .map((k) => k.key);
            const next = cursor + count >= keys.length ? 0 : cursor + count;
            return [Buffer.from(String(next)), page];
          }
          case 'PEXPIRETIME': {
            const k = index.get(arg(1).toString('latin1'));
            return k ? (k.expireAtMs ?? -1) : -2;
          }
          case 'DUMP': {
            src.dumps++;
            return index.get(arg(1).toString('latin1'))?.payload ?? null;
          }
          case 'FUNCTION':
            return functions.map((code) => [Buffer.from('library_code'), code]);
          default:
            return new RespServerError(`ERR unknown command '${name}'`);
        }
      };
      return {
        call: async (argv) => one(argv),
        sendBatch: async (argvs) => argvs.map(one),
        close: async () => {},
      };
    },
  };
  return src;
}
