/**
 * ACL users for test servers, written as an aclfile (`--aclfile`), one `user` line each. Passwords go in
 * as `#<sha256>` so no quoting is ever needed; `rules` is passed through as written
 * (e.g. '+@read ~* -@dangerous', see https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AclUser {
  name: string;
  /** Omit for `nopass`. */
  password?: string;
  /** ACL rules after `on` and the password, e.g. '~* &* +@read'. */
  rules: string;
}

function userLine(u: AclUser): string {
  if (!/^[!-~]+$/.test(u.name)) throw new Error(`ACL user name must be printable without spaces: ${u.name}`);
  const pass = u.password === undefined ? 'nopass' : `#${createHash('sha256').update(u.password).digest('hex')}`;
  return `user ${u.name} on ${pass} ${u.rules}`.trim();
}

/**
 * Write `users.acl` into dir and return its path. When `defaultPassword` is given and the list has no
 * `default` user, the default user keeps full access but needs that password (like requirepass).
 */
export function writeAclFile(dir: string, users: AclUser[], defaultPassword?: string): string {
  const lines = users.map(userLine);
  if (!users.some((u) => u.name === 'default')) {
    lines.unshift(userLine({ name: 'default', password: defaultPassword, rules: '~* &* +@all' }));
  }
  const path = join(dir, 'users.acl');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
