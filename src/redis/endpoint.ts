/** Connection options for a [source] or [target] config section: the URL, then user/password/TLS keys. */
import { readFileSync } from 'node:fs';
import type { ShakeConfig } from '../config/schema.js';
import type { Side } from './errors.js';
import type { ConnectionOptions } from './options.js';
import { parseRedisUrl } from './url.js';

/** The keys shared by [source] and [target] that say how to reach a server. */
export type EndpointSection = ShakeConfig['source'] | ShakeConfig['target'];

function pem(path: string): Buffer | undefined {
  return path ? readFileSync(path) : undefined;
}

/** `side` names the server in refusals (NOAUTH, WRONGPASS, NOPERM) and says which password setting to give. */
export function connectionFromSection(s: EndpointSection, side: Side): ConnectionOptions {
  const opts = parseRedisUrl(s.url);
  opts.side = side;
  if (s.user) opts.username = s.user;
  if (s.password) opts.password = s.password;
  opts.connectTimeoutMs = s.connect_timeout_ms;
  if (s.tls || opts.tls || s.tls_ca || s.tls_cert) {
    opts.tls = {
      ...opts.tls,
      ca: pem(s.tls_ca),
      cert: pem(s.tls_cert),
      key: pem(s.tls_key),
      servername: s.tls_servername || opts.tls?.servername,
      rejectUnauthorized: !s.tls_insecure,
    };
  }
  return opts;
}
