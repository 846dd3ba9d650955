/**
 * A throw-away certificate authority for TLS tests, made with the `openssl` CLI: CA key/cert, a server
 * cert for 127.0.0.1 / localhost (subjectAltName) and a client cert, all P-256 so generation takes
 * milliseconds. `tlsSupport()` answers, once per process, whether the installed redis-server really
 * speaks TLS (it starts one and completes a handshake), with a reason tests can print when skipping.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCA {
  dir: string;
  caCertFile: string;
  caKeyFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** PEM contents, ready for node's tls options. */
  ca: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

/** Every key a new P-256 EC key, unencrypted. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

async function leaf(dir: string, name: string, cn: string, ext: string): Promise<void> {
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  await openssl(
    ['req', '-new', ...NEW_KEY, '-keyout', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      String(Date.now()),
      '-days',
      '3650',
      '-sha256',
      '-extfile',
      extFile,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

/** Create a CA plus server and client certificates in `dir` (which must exist). */
export async function makeTestCA(dir: string): Promise<TestCA> {
  await openssl(
    [
      'req',
      '-x509',
      ...NEW_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '3650',
      '-sha256',
      '-subj',
      '/CN=shake test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  await Promise.all([
    leaf(
      dir,
      'server',
      'localhost',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n',
    ),
    leaf(dir, 'client', 'shake-test-client', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n'),
  ]);
  const f = (n: string): string => join(dir, n);
  return {
    dir,
    caCertFile: f('ca.crt'),
    caKeyFile: f('ca.key'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
    ca: readFileSync(f('ca.crt')),
    clientCert: readFileSync(f('client.crt')),
    clientKey: readFileSync(f('client.key')),
  };
}

let shared: Promise<TestCA> | undefined;

/** One CA per test process (in a temp dir removed at exit), for servers started with `tls: true`. */
export function sharedTestCA(): Promise<TestCA> {
  if (!shared) {
    const dir = mkdtempSync(join(tmpdir(), 'shake-ca-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    shared = makeTestCA(dir);
  }
  return shared;
}
