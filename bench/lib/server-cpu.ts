/** The CPU a redis-server has used, read from INFO (shared by the benches that compare a server's work). */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '../../src/redis/index.js';
import { parseInfo } from '../../src/sources/scan-server.js';
import type { RedisServer } from '../../test/harness/redis-server.js';

/**
 * user + sys CPU seconds of the server and its children so far. A fork's CPU (the RDB of a replication read)
 * is counted once the server has reaped the child: wait for that first, so it is not charged to the next run.
 */
export async function serverCpu(server: Pick<RedisServer, 'port'>): Promise<number> {
  const c = await connect({ host: '127.0.0.1', port: server.port });
  try {
    for (let i = 0; i < 100; i++) {
      const p = parseInfo(String(await c.callOrThrow(['INFO', 'persistence'])));
      // 0 once the child was reaped (waitpid: its CPU is then in used_cpu_*_children).
      if (p.get('rdb_bgsave_in_progress') === '0') break;
      await sleep(50);
    }
    const info = parseInfo(String(await c.callOrThrow(['INFO', 'cpu'])));
    const f = (k: string): number => Number(info.get(k) ?? 0);
    return f('used_cpu_user') + f('used_cpu_sys') + f('used_cpu_user_children') + f('used_cpu_sys_children');
  } finally {
    await c.close();
  }
}
