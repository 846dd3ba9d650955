/**
 * The handshake a replica does before a full resync, in the order of replication.c syncWithMaster
 * (AUTH is done by the connection before this):
 *   REPLCONF listening-port <port>    errors ignored (very old servers)
 *   REPLCONF capa eof capa psync2     errors ignored; 'eof' lets the master stream a diskless RDB
 *   REPLCONF rdb-only 1               7.0+: only the RDB, no command stream afterwards (errors ignored)
 *   PSYNC ? -1                        -> +FULLRESYNC <replid> <offset>; on -ERR (pre-2.8) fall back to SYNC
 * The snapshot ($<len> or $EOF:<mark>) that follows goes to the consumer; await link.snapshotDone().
 *
 * Refusals are reported as ReplicationError 'refused' so `shake dump` can fall back to SCAN + DUMP:
 * PSYNC and SYNC unknown or renamed away (AWS ElastiCache), or -NOPERM from an ACL user.
 */
import { RespServerError, type RespValue } from '@shake/resp';
import { RefusalReply } from '../redis/errors.js';
import { ReplicationError } from './errors.js';
import type { ReplicaLink, SnapshotConsumer } from './link.js';

export interface HandshakeOptions {
  /** Port announced with REPLCONF listening-port (shows in the master's INFO replication). */
  listeningPort: number;
  /** Ask for the RDB only (REPLCONF rdb-only 1; default true). `shake sync` needs the stream: false. */
  rdbOnly?: boolean;
  /** Announce the EOF capability (diskless transfers; default true). */
  capaEof?: boolean;
  /**
   * Ask for a partial resync from this point (`PSYNC <replid> <offset>`: the first byte not yet processed).
   * The master answers +CONTINUE (then the command stream follows) or +FULLRESYNC (a snapshot first).
   */
  resume?: { replid: string; offset: number };
}

/** The master accepted a partial resync: no snapshot, the command stream starts at `offset`. */
export interface PartialResync {
  via: 'continue';
  /** The replication id the stream continues under (+CONTINUE <new id> after a failover, psync2). */
  replid: string;
  offset: number;
}

export interface FullResync {
  /** 'psync' when the master answered +FULLRESYNC, 'sync' when it only knows SYNC (before 2.8). */
  via: 'psync' | 'sync';
  /** Master replication id and the offset the command stream starts at (PSYNC only). */
  replid: string | null;
  offset: number | null;
  /** Whether the master accepted REPLCONF rdb-only (then it closes the link after the snapshot). */
  rdbOnly: boolean;
}

export async function replicaHandshake(
  link: ReplicaLink,
  opts: HandshakeOptions & { resume?: undefined },
  consumer: SnapshotConsumer,
): Promise<FullResync>;
export async function replicaHandshake(
  link: ReplicaLink,
  opts: HandshakeOptions,
  consumer: SnapshotConsumer,
): Promise<FullResync | PartialResync>;
export async function replicaHandshake(
  link: ReplicaLink,
  opts: HandshakeOptions,
  consumer: SnapshotConsumer,
): Promise<FullResync | PartialResync> {
  const peer = link.peer;
  let reply = await link.command(['REPLCONF', 'listening-port', String(opts.listeningPort)], 'REPLCONF');
  if (isNoPerm(reply)) throw refused(peer, 'REPLCONF', reply);
  if (opts.capaEof !== false) {
    reply = await link.command(['REPLCONF', 'capa', 'eof', 'capa', 'psync2'], 'REPLCONF');
    if (isNoPerm(reply)) throw refused(peer, 'REPLCONF', reply);
  }
  let rdbOnly = false;
  if (opts.rdbOnly !== false) {
    reply = await link.command(['REPLCONF', 'rdb-only', '1'], 'REPLCONF');
    rdbOnly = !(reply instanceof Error);
  }

  const resume = opts.resume;
  const psyncArgs = resume ? ['PSYNC', resume.replid, String(resume.offset)] : ['PSYNC', '?', '-1'];
  reply = await link.psync(psyncArgs, consumer);
  if (resume && typeof reply === 'string' && reply.startsWith('CONTINUE')) {
    const id = reply.split(' ')[1];
    return { via: 'continue', replid: id && id.length === 40 ? id : resume.replid, offset: resume.offset - 1 };
  }
  if (typeof reply === 'string' && reply.startsWith('FULLRESYNC')) {
    const [, replid, offset] = reply.split(' ');
    return {
      via: 'psync',
      replid: replid && replid.length === 40 ? replid : null,
      offset: offset !== undefined && /^\d+$/.test(offset) ? Number(offset) : null,
      rdbOnly,
    };
  }
  if (!(reply instanceof RespServerError)) {
    throw new ReplicationError(
      'protocol',
      `unexpected reply to ${psyncArgs.join(' ')} from ${peer}: ${String(reply)}`,
      peer,
    );
  }
  if (reply.code === 'NOMASTERLINK' || reply.code === 'LOADING') {
    throw new ReplicationError('aborted', `${peer} cannot serve a full resync now: ${reply.message}`, peer);
  }
  if (reply.code === 'NOPERM') throw refused(peer, 'PSYNC', reply);
  // PSYNC unknown (before 2.8, or renamed away): try SYNC. Its answer is the snapshot itself, or an error.
  const psyncError = reply;
  link.sync(consumer, (err) => syncRefusal(peer, psyncError, err));
  return { via: 'sync', replid: null, offset: null, rdbOnly };
}

function syncRefusal(peer: string, psyncError: RespServerError, syncError: RespServerError): ReplicationError {
  if (syncError.code === 'NOPERM') return refused(peer, 'SYNC', syncError);
  const detail = `PSYNC: ${psyncError.message}; SYNC: ${syncError.message}`;
  if (/unknown command/i.test(syncError.message)) {
    return new ReplicationError(
      'refused',
      `${peer} does not allow replication (${detail}); SYNC and PSYNC are disabled there, as on AWS ElastiCache`,
      peer,
    );
  }
  return new ReplicationError('aborted', `${peer} refused the full resync (${detail})`, peer);
}

function isNoPerm(reply: RespValue): reply is RespServerError {
  return reply instanceof RespServerError && reply.code === 'NOPERM';
}

function refused(peer: string, cmd: string, reply: RespServerError): ReplicationError {
  return new ReplicationError(
    'refused',
    `source ${peer} refused ${cmd}: ${reply instanceof RefusalReply ? reply.original : reply.message} ` +
      '(replication needs a user allowed +psync +sync +replconf: grant them, or connect as such a user with ' +
      '--source-user and SHAKE_SOURCE_PASSWORD; or use --mode scan)',
    peer,
  );
}
