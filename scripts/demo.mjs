// `npm run demo`: the main job on an embedded default, end to end, with throwaway local servers.
//  1. decode the sample RDB shipped in examples/ (summary + a few JSON lines)
//  2. start three redis-server processes on free loopback ports (a "source", a "target" and "loaded")
//  3. shake restore the sample into the source
//  4. shake rump source -> target (SCAN + DUMP/RESTORE)
//  5. shake dump the source as a replica would (PSYNC) into an RDB, and decode that file's summary
//  6. shake restore that file into "loaded" with --load replication (the server loads it as a replica of shake)
//  7. verify: the target's and loaded's DEBUG DIGEST equal the source's (computed by Redis itself), and the
//     dumped file holds the same number of keys
// Exit code 0 only when every step and the verification pass.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const shakeBin = join(root, 'bin', 'run.js');
const sample = join(root, 'examples', 'sample.rdb');
const work = mkdtempSync(join(tmpdir(), 'shake-demo-'));
const servers = [];

function step(title) {
  console.log(`\n== ${title}`);
}

function shake(args, { quiet = false } = {}) {
  console.log(`$ shake ${args.join(' ')}`);
  const res = spawnSync(process.execPath, [shakeBin, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!quiet && res.stdout) process.stdout.write(res.stdout);
  if (res.stderr) process.stderr.write(res.stderr);
  if (res.status !== 0) throw new Error(`shake ${args[0]} exited with ${res.status}`);
  return res.stdout;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// A minimal RESP client for the verification commands (one command, one reply).
function command(port, ...argv) {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      const m = /^([+\-:])(.*)\r\n$/s.exec(buf) ?? /^\$(-?\d+)\r\n([\s\S]*)\r\n$/.exec(buf);
      if (!m) return;
      sock.end();
      if (m[1] === '-') reject(new Error(m[2]));
      else resolve(m[2]);
    });
    sock.on('error', reject);
    sock.write(argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).reduce((s, a) => s + a, `*${argv.length}\r\n`));
  });
}

async function startServer(name) {
  const port = await freePort();
  const dir = join(work, name);
  spawnSync('mkdir', ['-p', dir]);
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--enable-debug-command',
      'yes',
    ],
    { stdio: 'ignore' },
  );
  servers.push(child);
  for (let i = 0; i < 200; i++) {
    try {
      if ((await command(port, 'PING')) === 'PONG') return { port, url: `redis://127.0.0.1:${port}` };
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`redis-server ${name} did not start`);
}

async function main() {
  step('1. decode the embedded sample RDB');
  shake(['decode', sample, '--info']);
  const lines = shake(['decode', sample, '--format', 'jsonl'], { quiet: true }).split('\n');
  console.log(lines.slice(0, 3).join('\n'));
  console.log(`... ${lines.filter(Boolean).length} JSON lines (keys and function libraries)`);

  step('2. start throwaway redis-server instances');
  const source = await startServer('source');
  const target = await startServer('target');
  const loaded = await startServer('loaded');
  console.log(`source ${source.url}, target ${target.url}, loaded ${loaded.url}`);

  step('3. restore the sample into the source');
  shake(['restore', sample, '--target', source.url]);

  step('4. rump: copy source -> target with SCAN + DUMP/RESTORE');
  shake(['rump', '--source', source.url, '--target', target.url]);

  step('5. dump the source as a replica (PSYNC) and decode the file');
  const dumped = join(work, 'dumped.rdb');
  shake(['dump', '--source', source.url, '-o', dumped]);
  shake(['decode', dumped, '--info']);

  step('6. restore the dumped file into an empty server that loads it itself (--load replication)');
  shake(['restore', dumped, '--target', loaded.url, '--load', 'replication']);

  step('7. verify with Redis itself');
  const [ds, dt, dl] = [
    await command(source.port, 'DEBUG', 'DIGEST'),
    await command(target.port, 'DEBUG', 'DIGEST'),
    await command(loaded.port, 'DEBUG', 'DIGEST'),
  ];
  const info = JSON.parse(shake(['decode', dumped, '--info', '--format', 'json'], { quiet: true }));
  const original = JSON.parse(shake(['decode', sample, '--info', '--format', 'json'], { quiet: true }));
  console.log(`source digest ${ds}\ntarget digest ${dt}\nloaded digest ${dl}`);
  console.log(
    `keys in the sample ${original.keys}, in the dumped file ${info.keys}, its checksum ${info.checksum.status}`,
  );
  if (info.keys !== original.keys || info.checksum.status !== 'ok') throw new Error('the dumped file differs');
  if (ds !== dt) throw new Error('target differs from source');
  if (ds !== dl) throw new Error('the server loaded by replication differs from the source');
  console.log(
    '\nOK: the target and the loaded server are identical to the source (DEBUG DIGEST), and the dump decodes.',
  );
}

try {
  await main();
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  for (const s of servers) s.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
