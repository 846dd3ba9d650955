/**
 * redis:// and rediss:// URLs: `redis[s]://[[user]:password@]host[:port][/db]`, plus `?name=` (CLIENT SETNAME).
 * User and password are percent-decoded. rediss:// turns TLS on (certificate checks on by default).
 */
import type { ConnectionOptions } from './options.js';

const URL_FORM = 'redis://[user@]host:port[/db] (rediss:// for TLS)';

/** `host:port` or a bare host given where a URL belongs: the URL it most likely meant. */
function suggestion(url: string): string {
  return /^[\w.-]+(:\d+)?$/.test(url) || /^\[[0-9a-f:]+\](:\d+)?$/i.test(url) ? `, e.g. redis://${url}` : '';
}

export function parseRedisUrl(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`invalid redis URL ${JSON.stringify(url)}: expected ${URL_FORM}${suggestion(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`invalid redis URL ${JSON.stringify(url)}: expected ${URL_FORM}${suggestion(url)}`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = u.port ? Number(u.port) : 6379;
  const opts: ConnectionOptions = { host, port };
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '') {
    if (!/^\d+$/.test(path)) throw new Error(`invalid redis URL ${JSON.stringify(url)}: db must be a number`);
    opts.db = Number(path);
  }
  const name = u.searchParams.get('name');
  if (name) opts.name = name;
  if (u.protocol === 'rediss:') opts.tls = { servername: host, rejectUnauthorized: true };
  return opts;
}
