import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRedisUrl } from '../../src/redis/url.js';

test('parseRedisUrl: redis:// and rediss://, user, password, db, name', () => {
  assert.deepEqual(parseRedisUrl('redis://localhost'), { host: 'localhost', port: 6379 });
  assert.deepEqual(parseRedisUrl('redis://:s3cr%40t@10.0.0.1:6380/2'), {
    host: '10.0.0.1',
    port: 6380,
    password: 's3cr@t',
    db: 2,
  });
  assert.deepEqual(parseRedisUrl('rediss://alice:pw@cache.example.com:6390/0?name=shake'), {
    host: 'cache.example.com',
    port: 6390,
    username: 'alice',
    password: 'pw',
    db: 0,
    name: 'shake',
    tls: { servername: 'cache.example.com', rejectUnauthorized: true },
  });
  assert.deepEqual(parseRedisUrl('redis://[::1]:7000'), { host: '::1', port: 7000 });
  assert.throws(() => parseRedisUrl('http://x'), /expected redis:\/\/\[user@\]host:port.*rediss:\/\//);
  assert.throws(() => parseRedisUrl('redis://x/abc'), /db must be a number/);
  assert.throws(() => parseRedisUrl('not a url'), /invalid redis URL/);
});
