/**
 * A deliberately small RDB walker for the encodings tests: it steps over every key of an RDB file (as rdb.c
 * rdbLoadObject reads them) and hands back the raw container blobs (ziplist, listpack, intset, zipmap) and
 * plain strings, so real blobs written by real servers can be decoded and compared with what the server
 * itself read back (the fixtures' expected.jsonl). It is NOT the project's RDB parser and knows no semantics.
 */
import { type Cursor, readLen, readString, readStringInfo } from './helpers.js';

export type BlobKind = 'ziplist' | 'listpack' | 'intset' | 'zipmap' | 'quicklist-plain' | 'stream-listpack';

export interface KeyBlobs {
  db: number;
  key: Buffer;
  type: number;
  /** Container blobs in file order. */
  blobs: { kind: BlobKind; blob: Buffer }[];
  /** Plain values: the string (type 0), or the elements of types 1-5 and 24 (zset scores as strings). */
  plain: Buffer[];
  /** How many RDB strings of this key were LZF-compressed (decompressed along the way). */
  lzfStrings: number;
}

const SINGLE_BLOB: Record<number, BlobKind> = {
  9: 'zipmap',
  10: 'ziplist',
  11: 'intset',
  12: 'ziplist',
  13: 'ziplist',
  16: 'listpack',
  17: 'listpack',
  20: 'listpack',
  23: 'listpack',
  25: 'listpack',
};

export function walkRdb(file: Buffer): KeyBlobs[] {
  if (file.subarray(0, 5).toString('latin1') !== 'REDIS') throw new Error('not an RDB file');
  const c: Cursor = { buf: file, pos: 9 };
  const out: KeyBlobs[] = [];
  let db = 0;
  for (;;) {
    const op = file[c.pos++];
    if (op === undefined) throw new Error('RDB ended without EOF');
    if (op === 0xff) return out;
    switch (op) {
      case 0xfa: // AUX
        readString(c);
        readString(c);
        continue;
      case 0xfe: // SELECTDB
        db = readLen(c);
        continue;
      case 0xfb: // RESIZEDB
        readLen(c);
        readLen(c);
        continue;
      case 0xfc: // EXPIRETIME_MS
        c.pos += 8;
        continue;
      case 0xfd: // EXPIRETIME
        c.pos += 4;
        continue;
      case 0xf8: // IDLE
        readLen(c);
        continue;
      case 0xf9: // FREQ
        c.pos += 1;
        continue;
      case 0xf5: // FUNCTION2
        readString(c);
        continue;
      case 0xf4: // SLOT_INFO
        readLen(c);
        readLen(c);
        readLen(c);
        continue;
      default:
        break;
    }
    const key = readString(c);
    const k: KeyBlobs = { db, key, type: op, blobs: [], plain: [], lzfStrings: 0 };
    readValue(c, k);
    out.push(k);
  }
}

function str(c: Cursor, k: KeyBlobs): Buffer {
  const info = readStringInfo(c);
  if (info.lzf) k.lzfStrings++;
  return info.value;
}

function readValue(c: Cursor, k: KeyBlobs): void {
  const type = k.type;
  const single = SINGLE_BLOB[type];
  if (single) {
    if (type === 25) c.pos += 8; // minExpire
    k.blobs.push({ kind: single, blob: str(c, k) });
    return;
  }
  switch (type) {
    case 0:
      k.plain.push(str(c, k));
      return;
    case 1:
    case 2: {
      for (let n = readLen(c); n > 0; n--) k.plain.push(str(c, k));
      return;
    }
    case 3:
    case 5: {
      for (let n = readLen(c); n > 0; n--) {
        k.plain.push(str(c, k));
        if (type === 5) {
          k.plain.push(Buffer.from(String(c.buf.readDoubleLE(c.pos))));
          c.pos += 8;
        } else {
          const len = c.buf[c.pos++]!;
          const special: Record<number, string> = { 253: 'nan', 254: 'inf', 255: '-inf' };
          const s = special[len] ?? c.buf.toString('latin1', c.pos, c.pos + len);
          if (!special[len]) c.pos += len;
          k.plain.push(Buffer.from(s));
        }
      }
      return;
    }
    case 4: {
      for (let n = readLen(c) * 2; n > 0; n--) k.plain.push(str(c, k));
      return;
    }
    case 14: {
      for (let n = readLen(c); n > 0; n--) k.blobs.push({ kind: 'ziplist', blob: str(c, k) });
      return;
    }
    case 18: {
      for (let n = readLen(c); n > 0; n--) {
        const container = readLen(c);
        k.blobs.push({ kind: container === 1 ? 'quicklist-plain' : 'listpack', blob: str(c, k) });
      }
      return;
    }
    case 22:
    case 24: {
      if (type === 24) c.pos += 8; // minExpire
      for (let n = readLen(c); n > 0; n--) {
        readLen(c); // ttl
        k.plain.push(str(c, k), str(c, k));
      }
      return;
    }
    case 15:
    case 19:
    case 21:
      readStream(c, k);
      return;
    default:
      throw new Error(`rdb-blobs: value type ${type} not supported (key ${k.key.toString('latin1')})`);
  }
}

function readStream(c: Cursor, k: KeyBlobs): void {
  const type = k.type;
  for (let n = readLen(c); n > 0; n--) {
    str(c, k); // master id (rax key)
    k.blobs.push({ kind: 'stream-listpack', blob: str(c, k) });
  }
  readLen(c); // length
  readLen(c); // last id ms
  readLen(c); // last id seq
  if (type >= 19) for (let i = 0; i < 5; i++) readLen(c); // first id, max deleted id, entries added
  for (let groups = readLen(c); groups > 0; groups--) {
    str(c, k); // name
    readLen(c);
    readLen(c); // last delivered id
    if (type >= 19) readLen(c); // entries read
    for (let pel = readLen(c); pel > 0; pel--) {
      c.pos += 16 + 8; // raw id, delivery time
      readLen(c); // delivery count
    }
    for (let consumers = readLen(c); consumers > 0; consumers--) {
      str(c, k); // name
      c.pos += 8; // seen time
      if (type >= 21) c.pos += 8; // active time
      for (let pel = readLen(c); pel > 0; pel--) c.pos += 16;
    }
  }
}
