import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc16 } from '../../src/cluster/crc16.js';
import { keySlot } from '../../src/cluster/key-slot.js';
import { parseRedirect } from '../../src/cluster/redirect.js';
import { SlotTable } from '../../src/cluster/slots.js';

test('crc16 is CRC16/XMODEM (check value 0x31c3) and keySlot follows Redis examples', () => {
  assert.equal(crc16(Buffer.from('123456789')), 0x31c3);
  assert.equal(crc16(Buffer.alloc(0)), 0);
  // cluster-spec examples and hash-tag rules
  assert.equal(keySlot('foo'), 12182);
  assert.equal(keySlot('{user1000}.following'), keySlot('{user1000}.followers'));
  assert.equal(keySlot('{user1000}.following'), keySlot('user1000'));
  assert.equal(keySlot('foo{}{bar}'), crc16(Buffer.from('foo{}{bar}')) & 0x3fff); // empty tag: whole key
  assert.equal(keySlot('foo{{bar}}zap'), keySlot('{bar')); // tag is "{bar"
  assert.equal(keySlot('foo{bar}{zap}'), keySlot('bar')); // first tag only
  assert.equal(keySlot('{'), crc16(Buffer.from('{')) & 0x3fff);
  assert.equal(keySlot('}{'), crc16(Buffer.from('}{')) & 0x3fff);
  assert.equal(keySlot(Buffer.from([0x7b, 0xff, 0x7d])), crc16(Buffer.from([0xff])) & 0x3fff);
  assert.equal(keySlot(''), 0);
});

test('parseRedirect: every kind, endpoint forms, and non-redirects', () => {
  assert.deepEqual(parseRedirect(new Error('MOVED 3999 127.0.0.1:6381')), {
    kind: 'moved',
    slot: 3999,
    host: '127.0.0.1',
    port: 6381,
  });
  assert.deepEqual(parseRedirect('-ASK 0 redis-1.example:7000'), {
    kind: 'ask',
    slot: 0,
    host: 'redis-1.example',
    port: 7000,
  });
  assert.deepEqual(parseRedirect(Buffer.from('MOVED 16383 ::1:7001')), {
    kind: 'moved',
    slot: 16383,
    host: '::1',
    port: 7001,
  });
  assert.deepEqual(parseRedirect('MOVED 5 ?:7001'), { kind: 'moved', slot: 5, host: '', port: 7001 });
  assert.deepEqual(parseRedirect('MOVED 5 :7001'), { kind: 'moved', slot: 5, host: '', port: 7001 });
  assert.equal(parseRedirect('TRYAGAIN Multiple keys request during rehashing of slot')?.kind, 'tryagain');
  assert.equal(parseRedirect('CLUSTERDOWN Hash slot not served')?.kind, 'clusterdown');
  assert.equal(parseRedirect('CLUSTERDOWN The cluster is down')?.kind, 'clusterdown');
  assert.equal(parseRedirect('LOADING Redis is loading the dataset in memory')?.kind, 'loading');
  assert.equal(parseRedirect("READONLY You can't write against a read only replica.")?.kind, 'readonly');
  assert.equal(parseRedirect('MASTERDOWN Link with MASTER is down')?.kind, 'masterdown');
  for (const other of [
    'ERR unknown command',
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'MOVED',
    'MOVED x 1.2.3.4:5',
    'MOVED 16384 1.2.3.4:5',
    'MOVED 1 1.2.3.4:99999',
    'MOVED 1 1.2.3.4',
    'constructor',
    'toString x',
    '',
  ]) {
    assert.equal(parseRedirect(other), undefined, other);
  }
  assert.equal(parseRedirect(42), undefined);
  assert.equal(parseRedirect(null), undefined);
});

test('SlotTable from a CLUSTER SLOTS reply: ranges, replicas, unknown endpoints, MOVED update', () => {
  const reply = [
    [0, 5460, [Buffer.from('10.0.0.1'), 7000, Buffer.from('a'.repeat(40)), []], ['10.0.0.4', 7003, 'd'.repeat(40)]],
    [5461, 10922, ['', 7001, 'b'.repeat(40)]],
    [10923, 16383, [null, 7002]],
  ];
  const t = SlotTable.fromClusterSlots(reply, '10.9.9.9');
  assert.equal(t.uncovered(), 0);
  assert.deepEqual(t.masterOf(0), { host: '10.0.0.1', port: 7000, id: 'a'.repeat(40) });
  assert.deepEqual(t.shardOf(5460)?.replicas, [{ host: '10.0.0.4', port: 7003, id: 'd'.repeat(40) }]);
  assert.deepEqual(t.masterOf(5461), { host: '10.9.9.9', port: 7001, id: 'b'.repeat(40) });
  assert.deepEqual(t.masterOf(16383), { host: '10.9.9.9', port: 7002 });
  assert.deepEqual(
    t.ranges().map((r) => [r.start, r.end, r.master.port]),
    [
      [0, 5460, 7000],
      [5461, 10922, 7001],
      [10923, 16383, 7002],
    ],
  );
  t.setMaster(100, { host: '10.9.9.9', port: 7002 });
  assert.deepEqual(
    t.ranges().map((r) => [r.start, r.end, r.master.port]),
    [
      [0, 99, 7000],
      [100, 100, 7002],
      [101, 5460, 7000],
      [5461, 10922, 7001],
      [10923, 16383, 7002],
    ],
  );
  assert.equal(t.masters().length, 3);
  const partial = SlotTable.fromClusterSlots([[0, 10, ['h', 1]]], 'x');
  assert.equal(partial.uncovered(), 16384 - 11);
  assert.equal(partial.masterOf(11), undefined);
  for (const bad of [{}, [[0]], [[5, 4, ['h', 1]]], [[0, 16384, ['h', 1]]], [[0, 1, ['h']]], [[0, 1, ['h', 'x']]]]) {
    assert.throws(() => SlotTable.fromClusterSlots(bad, 'x'), { name: 'ClusterRouteError' });
  }
});
