/** Test adapter: an ioredis connection (RESP2, no cluster logic) as the router's CommandCaller. */
import { Redis } from 'ioredis';
import type { CommandCaller, NodeAddress } from '../../src/cluster/types.js';

export interface ClosableCaller extends CommandCaller {
  redis: Redis;
  /** Every argv sent, in order (to check where commands went). */
  sent: string[][];
}

export function ioredisCaller(node: NodeAddress): ClosableCaller {
  const redis = new Redis({ host: node.host, port: node.port, protocol: 2, maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  const sent: string[][] = [];
  return {
    redis,
    sent,
    call: (argv) => {
      const [cmd, ...args] = argv;
      sent.push(argv.map((a) => a.toString()));
      return redis.callBuffer(String(cmd), ...args);
    },
  };
}
