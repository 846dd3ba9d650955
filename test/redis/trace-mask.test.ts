/**
 * The protocol trace's masking (src/redis/trace.ts) on encoded commands: AUTH's arguments and HELLO's AUTH password
 * become '*' of the same length, everything else (other commands in the same write, the user name given to HELLO)
 * stays as it was; a chunk the scan cannot follow is left alone (the password is then masked by value). The hex
 * dump shows 16 bytes a row with their printable form.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeCommandToBuffer } from '@shake/resp';
import { hexDump, maskAuth } from '../../src/redis/trace.js';

const enc = (...argv: string[]): Buffer => encodeCommandToBuffer(argv);

test('AUTH [user] password: every argument masked; the commands around it untouched', () => {
  const chunk = Buffer.concat([enc('PING'), enc('AUTH', 'alice', 's3cret-pw'), enc('SELECT', '2')]);
  const masked = maskAuth(chunk);
  assert.deepEqual(masked, Buffer.concat([enc('PING'), enc('AUTH', '*****', '*********'), enc('SELECT', '2')]));
  assert.deepEqual(maskAuth(enc('auth', 'pw')), enc('auth', '**'), 'any case');
  assert.notEqual(masked, chunk, 'a copy: the bytes on the wire are not touched');
  assert.ok(chunk.includes('s3cret-pw'));
});

test('HELLO 3 AUTH user password SETNAME x: only the password masked', () => {
  assert.deepEqual(
    maskAuth(enc('HELLO', '3', 'AUTH', 'bob', 'hunter2', 'SETNAME', 'shake')),
    enc('HELLO', '3', 'AUTH', 'bob', '*******', 'SETNAME', 'shake'),
  );
});

test('a chunk that is not whole commands is left as it is', () => {
  const cut = enc('AUTH', 'pw-in-two-writes').subarray(0, 12);
  assert.equal(maskAuth(cut), cut);
  const reply = Buffer.from('+OK\r\n');
  assert.equal(maskAuth(reply), reply);
});

test('hexDump: offset, 16 bytes in two groups of 8, printable form', () => {
  const text = hexDump(Buffer.from('*1\r\n$4\r\nPING\r\n'));
  assert.equal(text, '  00000000  2a 31 0d 0a 24 34 0d 0a  50 49 4e 47 0d 0a        |*1..$4..PING..|\n');
  assert.equal(hexDump(Buffer.alloc(17)).split('\n').length, 3);
});
