/**
 * Makes sure no redis-server outlives the test process, however it dies.
 * - normal exit: the 'exit' hook SIGKILLs every server still registered;
 * - SIGKILL / crash of the test process: each server has a tiny watchdog `sh` whose stdin is a pipe from
 *   us. The kernel closes that pipe when we die, `read` returns at EOF and the watchdog SIGKILLs the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

const guarded = new Map<ChildProcess, ChildProcess | undefined>();

process.once('exit', () => {
  for (const [child, watchdog] of guarded) {
    child.kill('SIGKILL');
    watchdog?.kill('SIGKILL');
  }
});

/** Register a server process; returns a function that unregisters it (call before stopping it). */
export function guardProcess(child: ChildProcess): () => void {
  let watchdog: ChildProcess | undefined;
  if (child.pid !== undefined) {
    watchdog = spawn('sh', ['-c', 'read _ ; kill -9 "$1" 2>/dev/null', 'shake-test-watchdog', String(child.pid)], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    watchdog.on('error', () => {});
    watchdog.unref();
    (watchdog.stdin as Socket | null)?.unref();
    (watchdog.stdin as Socket | null)?.on('error', () => {});
    // Once the server is gone its pid may be reused: the watchdog must not outlive it.
    const w = watchdog;
    child.once('exit', () => {
      guarded.delete(child);
      w.kill('SIGKILL');
    });
  }
  guarded.set(child, watchdog);
  return () => {
    guarded.delete(child);
    watchdog?.kill('SIGKILL');
  };
}
