/**
 * The built `shake rump` command against an ElastiCache-like source served over TLS only (a CA made by the
 * test), read by an ACL user that has only the commands rump needs (reads everywhere, writes only on its
 * probe keys, one notification channel pattern): certificates verified by default, --tls-ca, the password
 * from the environment, --live stopped with Ctrl-C (SIGINT) and a summary.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { tlsSupported } from '../harness/tls-support.js';
import { assertRecordsMatch } from '../helpers/compare-records.js';
import { readKeyspace } from '../helpers/keyspace.js';
import { runCli, spawnCli } from '../cli/helpers/run-cli.js';
import { fillMixed, waitFor } from './helpers.js';

/** What `rump --live` needs and nothing more (docs/rump.md, "ACL"). */
const COPIER_RULES =
  'resetkeys %R~* ~shake-rump-probe:* resetchannels &__keyevent@*__:* -@all ' +
  '+info +select +scan +dump +pexpiretime +ping +psubscribe ' +
  '+set +lpush +sadd +hset +zadd +xadd +del +exists';

describe('shake rump (CLI): TLS source, minimal ACL user, ElastiCache-like', { skip: false }, () => {
  let source: RedisServer;
  let target: RedisServer;
  let tlsOk = true;
  before(async () => {
    tlsOk = await tlsSupported();
    if (!tlsOk) return;
    [source, target] = await Promise.all([
      startRedis({
        tls: true,
        elasticache: true,
        users: [{ name: 'copier', password: 'c0pier-secret', rules: COPIER_RULES }],
        password: 'admin-secret',
        config: { 'notify-keyspace-events': 'KEA' },
      }),
      startRedis(),
    ]);
    const c = source.client({ password: 'admin-secret' });
    await fillMixed(c, 'k:', 3000);
    c.disconnect();
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  const sourceUrl = (): string => `rediss://copier@127.0.0.1:${source.port}`;
  const env = (): Record<string, string> => ({ SHAKE_SOURCE_PASSWORD: 'c0pier-secret' });

  test('without --tls-ca the self-signed certificate is refused', async (t) => {
    if (!tlsOk) return t.skip('no TLS support in this redis-server');
    const r = await runCli(['rump', '--source', sourceUrl(), '--target', target.url, '-q'], { env: env() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /certificate/i);
  });

  test('--tls-insecure (only when asked) accepts the certificate unverified', async (t) => {
    if (!tlsOk) return t.skip('no TLS support in this redis-server');
    const r = await runCli(
      ['rump', '--source', sourceUrl(), '--tls-insecure', '--target', target.url, '--rate', '0', '--db', '0'],
      { env: env() },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /3000 keys read, 3000 written/);
    const d = target.client();
    await d.flushall();
    d.disconnect();
  });

  test('with --tls-ca and the ACL user: every key copied, exit 0, summary printed', async (t) => {
    if (!tlsOk) return t.skip('no TLS support in this redis-server');
    const r = await runCli(
      ['rump', '--source', sourceUrl(), '--tls-ca', source.tls!.caCertFile, '--target', target.url, '--rate', '0'],
      { env: env() },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /3000 keys read, 3000 written/);
    assert.match(r.stderr, /3000 keys scanned by the first pass \(the source reported 3000 at its start\)/);
    const [src, dst] = await Promise.all([
      readKeyspace({
        host: '127.0.0.1',
        port: source.port,
        password: 'admin-secret',
        tls: { ca: source.tls!.ca, servername: 'localhost' },
      }),
      readKeyspace({ host: target.host, port: target.port }),
    ]);
    assertRecordsMatch(dst, src, { approxMs: 0 });
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    test(`--live checks notifications with probe writes (CONFIG refused), follows writes, stops on ${signal} with a summary`, async (t) => {
      if (!tlsOk) return t.skip('no TLS support in this redis-server');
      const run = spawnCli(
        ['rump', '--source', sourceUrl(), '--tls-ca', source.tls!.caCertFile, '--target', target.url, '--live'],
        { env: env() },
      );
      try {
        await waitFor('the first pass', () => run.stderr().includes('following the source'), 30_000);
        const c = source.client({ password: 'admin-secret' });
        const d = target.client();
        // Keys of this run's own (the two runs share the servers).
        const gone = signal === 'SIGINT' ? 'k:7' : 'k:8';
        await c.set(`written-live:${signal}`, 'yes');
        await c.del(gone);
        await waitFor(
          'the live write',
          async () => (await d.get(`written-live:${signal}`)) === 'yes' && (await d.exists(gone)) === 0,
        );
        c.disconnect();
        d.disconnect();
        run.child.kill(signal);
        assert.equal(await run.exit, 0, run.stderr());
        assert.match(run.stderr(), /notifications: 127.0.0.1:\d+: probe writes ok/);
        assert.match(run.stderr(), /live: \d+ key events, \d+ re-copies, 1 deletions/);
        // The first pass against what the source held at its start; the live re-copies are not added to it.
        const pass = /(\d+) keys scanned by the first pass \(the source reported (\d+) at its start\)/.exec(
          run.stderr(),
        );
        assert.ok(pass, run.stderr());
        assert.equal(pass[1], pass[2]);
      } finally {
        run.child.kill('SIGKILL');
      }
    });
});
