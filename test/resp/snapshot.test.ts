import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespDecoder, RespError, type SnapshotHandler } from '@shake/resp';
import { mergeChunks, plain, splits, type Event } from './feed.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const MARK = 'a3f1e2d4c5b6a7980123456789abcdef01234567';

/** A replica-side decoder: FULLRESYNC makes it expect the snapshot, like a replica reading PSYNC's answer. */
function replicaDecoder(events: Event[]): { decoder: RespDecoder; cmdBytes: () => number } {
  const handler: SnapshotHandler = {
    onSnapshotStart: (i) => events.push(['snap-start', i.length, i.eofMark?.toString('latin1') ?? null]),
    onSnapshotChunk: (p) => events.push(['snap-chunk', p.toString('latin1')]),
    onSnapshotEnd: () => events.push(['snap-end']),
    onSnapshotError: (e) => events.push(['snap-error', e.message]),
  };
  const decoder: RespDecoder = new RespDecoder({
    skipNewlines: true,
    onReply: (v) => {
      events.push(['reply', plain(v)]);
      if (typeof v === 'string' && v.startsWith('FULLRESYNC')) decoder.expectSnapshot(handler);
    },
  });
  return { decoder, cmdBytes: () => decoder.offset - (decoder.snapshotEndOffset ?? 0) };
}

const ping = '*1\r\n$4\r\nPING\r\n';
const set = '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n';

function checkAllSplits(wire: Buffer, expected: Event[], commandBytes: number): void {
  for (const parts of splits(wire)) {
    const events: Event[] = [];
    const { decoder, cmdBytes } = replicaDecoder(events);
    for (const p of parts) decoder.write(p);
    const label = `split ${parts.map((p) => p.length).join('+')}`;
    assert.ok(
      events.every((e) => e[0] !== 'snap-chunk' || String(e[1]).length > 0),
      `${label}: no empty snapshot pieces`,
    );
    assert.deepEqual(mergeChunks(events), expected, label);
    assert.equal(cmdBytes(), commandBytes, `${label}: command-stream bytes after the snapshot`);
    assert.equal(decoder.offset, wire.length);
  }
}

test('snapshot, $<len> form: keepalives, raw bytes with no CRLF, then the command stream', () => {
  const rdb = 'REDIS0011\xfa\r\n$*+-\n\x00\xffend';
  const wire = b(
    `\n+FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 0\r\n\n\n\r\n$${rdb.length}\r\n${rdb}${ping}${set}`,
  );
  checkAllSplits(
    wire,
    [
      ['reply', 'FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 0'],
      ['snap-start', rdb.length, null],
      ['snap-chunk', rdb],
      ['snap-end'],
      ['reply', [{ bulk: 'PING' }]],
      ['reply', [{ bulk: 'SET' }, { bulk: 'k' }, { bulk: 'v' }]],
    ],
    ping.length + set.length,
  );
});

test('snapshot, diskless $EOF:<mark> form: mark split anywhere, look-alike prefixes in the data', () => {
  // data containing partial copies of the mark (39 bytes of it, and its first byte) right before the real one
  const rdb = `REDIS0011${MARK.slice(0, 39)}x${MARK.slice(0, 20)}\r\n${MARK.slice(0, 1)}`;
  const wire = b(`+FULLRESYNC abc 77\r\n\n$EOF:${MARK}\r\n${rdb}${MARK}${ping}`);
  checkAllSplits(
    wire,
    [
      ['reply', 'FULLRESYNC abc 77'],
      ['snap-start', null, MARK],
      ['snap-chunk', rdb],
      ['snap-end'],
      ['reply', [{ bulk: 'PING' }]],
    ],
    ping.length,
  );
});

test('snapshot: empty transfers of both forms, and data shorter than the mark', () => {
  checkAllSplits(
    b(`+FULLRESYNC x 0\r\n$0\r\n${ping}`),
    [['reply', 'FULLRESYNC x 0'], ['snap-start', 0, null], ['snap-end'], ['reply', [{ bulk: 'PING' }]]],
    ping.length,
  );
  checkAllSplits(
    b(`+FULLRESYNC x 0\r\n$EOF:${MARK}\r\n${MARK}`),
    [['reply', 'FULLRESYNC x 0'], ['snap-start', null, MARK], ['snap-end']],
    0,
  );
  checkAllSplits(
    b(`+FULLRESYNC x 0\r\n$EOF:${MARK}\r\nab${MARK}:5\r\n`),
    [['reply', 'FULLRESYNC x 0'], ['snap-start', null, MARK], ['snap-chunk', 'ab'], ['snap-end'], ['reply', 5]],
    4,
  );
});

test('snapshot: the master aborting with -ERR goes to onSnapshotError and decoding resumes', () => {
  checkAllSplits(
    b('+FULLRESYNC x 0\r\n\n-ERR BGSAVE failed\r\n+OK\r\n'),
    [
      ['reply', 'FULLRESYNC x 0'],
      ['snap-error', 'ERR BGSAVE failed'],
      ['reply', 'OK'],
    ],
    17 + 1 + 20 + 5, // no snapshot ended: offset counted from the stream start
  );
});

test('snapshot: a large transfer in random chunks equals the payload; pieces are views where possible', () => {
  const payload = Buffer.alloc(300_000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff;
  for (const form of ['len', 'eof'] as const) {
    const head = form === 'len' ? b(`$${payload.length}\r\n`) : b(`$EOF:${MARK}\r\n`);
    const tail = form === 'len' ? b(ping) : b(MARK + ping);
    const wire = Buffer.concat([head, payload, tail]);
    const got: Buffer[] = [];
    let pings = 0;
    const d = new RespDecoder({ onReply: () => pings++ });
    d.expectSnapshot({ onSnapshotStart: () => {}, onSnapshotChunk: (p) => got.push(p), onSnapshotEnd: () => {} });
    let seed = 12345;
    for (let pos = 0; pos < wire.length;) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const n = 1 + (seed % 20000);
      d.write(wire.subarray(pos, pos + n));
      pos += n;
    }
    assert.ok(Buffer.concat(got).equals(payload), form);
    assert.equal(pings, 1);
    const viewBytes = got.filter((p) => p.buffer === wire.buffer).reduce((n, p) => n + p.length, 0);
    assert.ok(viewBytes > payload.length * 0.9, `${form}: most bytes are zero-copy views (${viewBytes})`);
  }
});

test('snapshot: bad header lines are RespError', () => {
  const cases = ['+CONTINUE\r\n', '$EOF:short\r\n', '$12x\r\n', `$${'9'.repeat(2000)}`];
  for (const c of cases) {
    const d = new RespDecoder({ onReply: () => {} });
    d.expectSnapshot({ onSnapshotStart: () => {}, onSnapshotChunk: () => {}, onSnapshotEnd: () => {} });
    assert.throws(() => d.write(b(c)), RespError, c);
  }
  const d = new RespDecoder({ onReply: () => {} });
  d.write(b('*2\r\n'));
  assert.throws(() => d.expectSnapshot({ onSnapshotStart() {}, onSnapshotChunk() {}, onSnapshotEnd() {} }));
});
