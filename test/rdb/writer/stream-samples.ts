/**
 * Stream samples: groups with PELs and consumers (one with an empty PEL), a group at the end, entries with
 * varying fields and deleted entries (gaps kept in max-deleted-id / entries-added), several listpack
 * nodes, binary fields, a stream emptied but keeping its group, and one whose last id was moved (XSETID).
 */
import type { StreamEntry } from '@shake/rdb';
import type { StreamRecord } from '../../helpers/records.js';
import { FUTURE, deterministicBytes, id, prng, streamSample, type Sample } from './sample-base.js';

export function streamSamples(db: number): Sample[] {
  const f = (s: string): Buffer => Buffer.from(s);
  const basicEntries: StreamEntry[] = Array.from({ length: 20 }, (_, i) => ({
    id: id(1700651898000 + i, 0),
    fields: [
      [f('sensor'), f(`s${i % 3}`)],
      [f('temp'), f(String(20 + i))],
    ],
  }));
  const basic = streamSample(
    'stream:basic',
    {
      entries: basicEntries,
      groups: [
        {
          name: f('readers'),
          lastId: id(1700651898004),
          entriesRead: 5,
          pel: [0, 1, 2, 3, 4].map((i) => ({
            id: id(1700651898000 + i),
            consumer: f(i < 3 ? 'r1' : 'r2'),
            deliveryTimeMs: 1700000123456 + i,
            deliveryCount: i + 1,
          })),
          consumers: [
            {
              name: f('r1'),
              seenTimeMs: 1700000200000,
              activeTimeMs: null,
              pel: [0, 1, 2].map((i) => id(1700651898000 + i)),
            },
            {
              name: f('r2'),
              seenTimeMs: 1700000300000,
              activeTimeMs: null,
              pel: [3, 4].map((i) => id(1700651898000 + i)),
            },
            { name: f('idle'), seenTimeMs: 1700000400000, activeTimeMs: null, pel: [] },
          ],
        },
        { name: f('at-end'), lastId: id(1700651898019), entriesRead: 20, pel: [], consumers: [] },
      ],
    },
    null,
    db,
  );
  // Varying fields, ids with seq > 0, deleted entries (gaps) recorded in max-deleted-id / entries-added,
  // more entries than one listpack node holds.
  const r = prng(3);
  const big: StreamEntry[] = [];
  for (let i = 0; i < 300; i++) {
    if (i % 17 === 5) continue; // deleted
    const fields: [Buffer, Buffer][] =
      i % 4 === 0
        ? [
            [f('a'), f(String(i))],
            [f('b'), f('x'.repeat(Math.floor(r() * 40)))],
          ]
        : [[f(`k${i % 5}`), f(`v${i}`)]];
    big.push({ id: id(1700651899000 + Math.floor(i / 3), i % 3), fields });
  }
  const bigSample = streamSample(
    'stream:big',
    {
      entries: big,
      maxDeletedEntryId: id(1700651899096, 1),
      entriesAdded: 300,
      groups: [
        {
          name: f('group-a'),
          lastId: big[10]!.id,
          entriesRead: null,
          pel: [2, 3, 4].map((i) => ({
            id: big[i]!.id,
            consumer: f('bob'),
            deliveryTimeMs: 1700000123456,
            deliveryCount: 3,
          })),
          consumers: [
            { name: f('bob'), seenTimeMs: 1700000123456, activeTimeMs: null, pel: [2, 3, 4].map((i) => big[i]!.id) },
          ],
        },
      ],
    },
    FUTURE,
    db,
  );
  const binary = streamSample(
    'stream:binary',
    {
      entries: [
        {
          id: id(5, 5),
          fields: [
            [Buffer.from([0, 0xff]), deterministicBytes(64, 64)],
            [f(''), f('')],
          ],
        },
      ],
    },
    null,
    db,
  );
  const emptied = streamSample(
    'stream:emptied',
    {
      entries: [],
      lastId: id(1700651898000, 2),
      firstId: null,
      maxDeletedEntryId: id(1700651898000, 2),
      entriesAdded: 2,
      groups: [{ name: f('g'), lastId: id(0), entriesRead: null, pel: [], consumers: [] }],
    },
    null,
    db,
  );
  // XSETID moved the last id past the last entry.
  const setid = streamSample(
    'stream:setid',
    { entries: [{ id: id(1700651898000), fields: [[f('x'), f('1')]] }], lastId: id(1700651898999, 7) },
    null,
    db,
  );
  emptied.expected = { ...emptied.expected, value: { ...(emptied.expected.value as StreamRecord), first_id: '0-0' } };
  return [basic, bigSample, binary, emptied, setid];
}
