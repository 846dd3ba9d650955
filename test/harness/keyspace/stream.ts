/**
 * Read one stream back into the fixtures' stream record (see shared/fixtures/README.md):
 * entries from XRANGE (paged), metadata, groups, PEL and consumers from `XINFO STREAM key FULL COUNT 0`
 * (6.0+; 7.0+ adds first id / max deleted id / entries added / entries-read, 7.2+ consumer active-time).
 * On 5.0 (no FULL) it falls back to XINFO GROUPS / XINFO CONSUMERS / XPENDING and marks times_approx.
 */
import type { StreamGroupRecord, StreamRecord } from '../../helpers/records.js';
import {
  asArray,
  asBuffer,
  asFieldMap,
  asInt,
  asIntOrNull,
  asText,
  compareStreamIds,
  field,
  nextStreamId,
  type Reply,
} from './reply.js';
import { serverNow, type RawCall } from './raw-call.js';

const PAGE = 1000;
const b64 = (r: unknown, what: string): string => asBuffer(r, what).toString('base64');
const byBytes = (a: { name: Buffer }, b: { name: Buffer }): number => Buffer.compare(a.name, b.name);

async function readEntries(call: RawCall, key: Buffer): Promise<StreamRecord['entries']> {
  const out: StreamRecord['entries'] = [];
  let start: string | undefined = '-';
  while (start !== undefined) {
    const page = asArray(await call('XRANGE', key, start, '+', 'COUNT', PAGE), 'XRANGE');
    for (const e of page) {
      const [id, fv] = asArray(e, 'XRANGE entry');
      const pairs = asArray(fv, 'XRANGE fields');
      const fields: [string, string][] = [];
      for (let i = 0; i + 1 < pairs.length; i += 2) fields.push([b64(pairs[i], 'field'), b64(pairs[i + 1], 'value')]);
      out.push([asText(id, 'XRANGE id'), fields]);
    }
    const last = out.at(-1);
    start = page.length < PAGE || !last ? undefined : nextStreamId(last[0]);
  }
  return out;
}

function optionalId(m: Map<string, Reply>, name: string): string | null {
  const v = m.get(name);
  return v === undefined || v === null ? null : asText(v, name);
}

function groupFromFull(g: Reply): StreamGroupRecord & { name: Buffer } {
  const m = asFieldMap(g, 'XINFO group');
  const name = asBuffer(field(m, 'name', 'group'), 'group name');
  const pel = asArray(field(m, 'pending', 'group'), 'group pel').map((p): [string, string, number, number] => {
    const [id, consumer, time, count] = asArray(p, 'pel entry');
    return [asText(id, 'pel id'), b64(consumer, 'pel consumer'), asInt(time, 'delivery time'), asInt(count, 'count')];
  });
  pel.sort((a, b) => compareStreamIds(a[0], b[0]));
  const consumers = asArray(field(m, 'consumers', 'group'), 'consumers').map((c) => {
    const cm = asFieldMap(c, 'XINFO consumer');
    const cname = asBuffer(field(cm, 'name', 'consumer'), 'consumer name');
    const ids = asArray(field(cm, 'pending', 'consumer'), 'consumer pel').map((p) =>
      asText(asArray(p, 'pel')[0], 'id'),
    );
    ids.sort(compareStreamIds);
    const active = cm.get('active-time');
    return {
      name: cname,
      name_b64: cname.toString('base64'),
      seen_time_ms: asInt(field(cm, 'seen-time', 'consumer'), 'seen-time'),
      active_time_ms: active === undefined ? null : asIntOrNull(active, 'active-time'),
      pel: ids,
    };
  });
  consumers.sort(byBytes);
  return {
    name,
    name_b64: name.toString('base64'),
    last_delivered_id: asText(field(m, 'last-delivered-id', 'group'), 'last-delivered-id'),
    entries_read: m.has('entries-read') ? asIntOrNull(m.get('entries-read'), 'entries-read') : null,
    pel,
    consumers: consumers.map(({ name_b64, seen_time_ms, active_time_ms, pel: p }) => ({
      name_b64,
      seen_time_ms,
      active_time_ms,
      pel: p,
    })),
  };
}

async function groupsWithoutFull(call: RawCall, key: Buffer): Promise<(StreamGroupRecord & { name: Buffer })[]> {
  const now = await serverNow(call);
  const groups = asArray(await call('XINFO', 'GROUPS', key), 'XINFO GROUPS');
  return Promise.all(
    groups.map(async (g) => {
      const m = asFieldMap(g, 'XINFO GROUPS entry');
      const name = asBuffer(field(m, 'name', 'group'), 'group name');
      const pending = asArray(await call('XPENDING', key, name, '-', '+', 2 ** 31 - 1), 'XPENDING');
      const pel = pending.map((p): [string, string, number, number] => {
        const [id, consumer, idle, count] = asArray(p, 'XPENDING entry');
        return [asText(id, 'id'), b64(consumer, 'consumer'), now - asInt(idle, 'idle'), asInt(count, 'count')];
      });
      pel.sort((a, b) => compareStreamIds(a[0], b[0]));
      const cs = asArray(await call('XINFO', 'CONSUMERS', key, name), 'XINFO CONSUMERS').map((x) => {
        const cm = asFieldMap(x, 'XINFO CONSUMERS entry');
        const cname = asBuffer(field(cm, 'name', 'consumer'), 'consumer name');
        const cb64 = cname.toString('base64');
        return {
          name: cname,
          name_b64: cb64,
          seen_time_ms: now - asInt(field(cm, 'idle', 'consumer'), 'idle'),
          active_time_ms: null,
          pel: pel.filter((p) => p[1] === cb64).map((p) => p[0]),
        };
      });
      cs.sort(byBytes);
      return {
        name,
        name_b64: name.toString('base64'),
        last_delivered_id: asText(field(m, 'last-delivered-id', 'group'), 'last-delivered-id'),
        entries_read: null,
        pel,
        consumers: cs.map(({ name: _n, ...rest }) => rest),
      };
    }),
  );
}

/** `full`: the server has `XINFO STREAM key FULL` (6.0+). */
export async function readStream(call: RawCall, key: Buffer, full: boolean): Promise<StreamRecord> {
  const entries = await readEntries(call, key);
  if (!full) {
    const info = asFieldMap(await call('XINFO', 'STREAM', key), 'XINFO STREAM');
    const groups = await groupsWithoutFull(call, key);
    groups.sort(byBytes);
    const rec: StreamRecord & { times_approx: boolean } = {
      entries,
      length: asInt(field(info, 'length', 'XINFO STREAM'), 'length'),
      last_id: asText(field(info, 'last-generated-id', 'XINFO STREAM'), 'last-generated-id'),
      first_id: null,
      max_deleted_entry_id: null,
      entries_added: null,
      groups: groups.map(({ name: _n, ...g }) => g),
      times_approx: true,
    };
    return rec;
  }
  const info = asFieldMap(await call('XINFO', 'STREAM', key, 'FULL', 'COUNT', 0), 'XINFO STREAM FULL');
  const groups = asArray(field(info, 'groups', 'XINFO STREAM FULL'), 'groups').map(groupFromFull);
  groups.sort(byBytes);
  const added = info.get('entries-added');
  return {
    entries,
    length: asInt(field(info, 'length', 'XINFO STREAM FULL'), 'length'),
    last_id: asText(field(info, 'last-generated-id', 'XINFO STREAM FULL'), 'last-generated-id'),
    first_id: optionalId(info, 'recorded-first-entry-id'),
    max_deleted_entry_id: optionalId(info, 'max-deleted-entry-id'),
    entries_added: added === undefined ? null : asIntOrNull(added, 'entries-added'),
    groups: groups.map(({ name: _n, ...g }) => g),
  };
}
