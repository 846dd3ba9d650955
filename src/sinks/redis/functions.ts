/**
 * Function libraries (RDB FUNCTION2 / FUNCTION_PRE_GA records) loaded on every master with FUNCTION LOAD.
 * `--functions replace` loads with REPLACE; `skip` leaves an existing library alone (counted), and on a target
 * that cannot hold functions (before 7.0, a proxy) leaves every library out (counted, reported); `error`
 * counts an existing library as a failure. The same library met twice in one run (a cluster dump holds it
 * once per node) is loaded once.
 */
import { RespServerError } from '@shake/resp';
import type { Argv } from '../../rewrite/key-rewriter.js';
import type { ConflictPolicy, SinkCore } from './core.js';

export class FunctionLoader {
  private readonly seen = new Set<string>();

  constructor(
    private readonly core: SinkCore,
    private readonly policy: ConflictPolicy,
  ) {}

  async load(code: Buffer): Promise<void> {
    // node:crypto loaded when a library comes, not at every start-up (decode and restore import this module).
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha1').update(code).digest('hex');
    if (this.seen.has(digest)) return;
    this.seen.add(digest);
    const name = libraryName(code);
    if (!this.core.target.profile.features.functions) {
      // Met before any key (an RDB holds its libraries first): with --on-error stop nothing is written.
      if (this.policy === 'skip') {
        this.core.stats.functionsUnsupported++;
        return;
      }
      this.core.fail(
        null,
        null,
        `function library ${name}: the target cannot hold functions (needs Redis 7.0+, no proxy): ` +
          '--functions skip copies the keys without the libraries',
      );
      return;
    }
    const argv: Argv = ['FUNCTION', 'LOAD'];
    if (this.policy === 'replace') argv.push('REPLACE');
    argv.push(code);
    for (const node of this.core.target.masters()) {
      const [reply] = await this.core.orderedWriter(node).direct([argv]);
      if (reply instanceof RespServerError) {
        if (/already exists/i.test(reply.message) && this.policy === 'skip') {
          this.core.stats.functionsSkipped++;
          continue;
        }
        this.core.fail(null, null, `FUNCTION LOAD ${name} on ${node.addr}: ${reply.message}`);
        continue;
      }
      this.core.stats.functionsLoaded++;
    }
  }
}

/** The library name from the `#!<engine> name=<name>` shebang line, for messages. */
export function libraryName(code: Buffer): string {
  const first = code.subarray(0, 256).toString('utf8').split('\n')[0] ?? '';
  const m = /name=(\S+)/.exec(first);
  return m ? JSON.stringify(m[1]) : '(unnamed)';
}
