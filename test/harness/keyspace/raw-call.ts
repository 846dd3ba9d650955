/**
 * Send one command through an ioredis client and get the server's reply exactly as RESP2 framed it:
 * bulk strings as Buffer, no reply transformers (ioredis reshapes HGETALL into an object keyed by
 * *strings* and ZRANGE WITHSCORES into pairs, which would lose binary fields or the reply's shape).
 */
import { Command, type Redis } from 'ioredis';

class RawCommand extends Command {
  override transformReply(result: Buffer | Buffer[]): Buffer | Buffer[] {
    return result;
  }
}

export type RawCall = (command: string, ...args: (string | Buffer | number)[]) => Promise<unknown>;

export function rawCaller(client: Redis): RawCall {
  return (command, ...args) => {
    const cmd = new RawCommand(command.toLowerCase(), args);
    void client.sendCommand(cmd);
    return cmd.promise;
  };
}

/** The server's clock (TIME, ms): PTTL and idle times are relative to it, not to the clock of the Node side. */
export async function serverNow(call: RawCall): Promise<number> {
  const t = await call('TIME');
  if (!Array.isArray(t) || t.length !== 2) throw new Error('TIME: unexpected reply');
  return Number(String(t[0])) * 1000 + Math.floor(Number(String(t[1])) / 1000);
}
