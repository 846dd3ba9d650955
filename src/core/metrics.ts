/**
 * What a run is doing, for whoever watches it: a RunBoard that a command fills (phase, endpoints, the pipeline's
 * Counters, live gauges such as sync's offset and lag, the last error), rendered as Prometheus text
 * (`GET /metrics`) and as JSON (`GET /status`) by a small HTTP server bound to loopback unless told otherwise.
 * Endpoints are shown as host:port only: no user, password or URL query ever reaches the board.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Counters } from './counters.js';

export interface RunEndpoints {
  source?: string;
  target?: string;
}

export class RunBoard {
  phase = 'starting';
  readonly startedAt = Date.now();
  endpoints: RunEndpoints = {};
  counters: Counters | null = null;
  /** Live numbers (name -> value), e.g. sync_offset_bytes; each becomes a `shake_<name>` gauge. */
  gauges: () => Record<string, number> = () => ({});
  lastError: string | null = null;
  /** When set, the phase is read from the run itself (e.g. sync's links) whenever the board is shown. */
  livePhase: (() => string) | null = null;
  /** Phases seen, for the `shake_phase` gauge (1 for the current one, 0 for the others). */
  private readonly phases = new Set<string>(['starting']);

  constructor(
    readonly command: string,
    readonly version: string,
  ) {}

  setPhase(phase: string): void {
    this.phase = phase;
    this.phases.add(phase);
  }

  private refresh(): void {
    if (this.livePhase) this.setPhase(this.livePhase());
  }

  status(): Record<string, unknown> {
    this.refresh();
    return {
      command: this.command,
      version: this.version,
      phase: this.phase,
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      ...this.endpoints,
      progress: this.counters
        ? {
            keysRead: this.counters.keysRead,
            keysWritten: this.counters.keysWritten,
            commandsRead: this.counters.commandsRead,
            commandsWritten: this.counters.commandsWritten,
            bytesRead: this.counters.bytesRead,
            skipped: Object.fromEntries(this.counters.skipped),
            failed: this.counters.failed,
          }
        : null,
      gauges: this.gauges(),
      lastError: this.lastError,
    };
  }

  /** The Prometheus text exposition format (version 0.0.4). */
  metrics(): string {
    this.refresh();
    const out: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]): void => {
      out.push(`# HELP shake_${name} ${help}`, `# TYPE shake_${name} ${type}`);
      for (const [labels, v] of samples) out.push(`shake_${name}${labels} ${Number.isFinite(v) ? v : 0}`);
    };
    const label = (k: string, v: string): string => `{${k}="${v.replace(/["\\\n]/g, '_')}"}`;
    metric('info', 'gauge', 'The running command and version.', [
      [`{command="${this.command}",version="${this.version}"}`, 1],
    ]);
    metric('start_time_seconds', 'gauge', 'When the run started (Unix time).', [['', this.startedAt / 1000]]);
    metric(
      'phase',
      'gauge',
      'The current phase (1) among those seen (0).',
      [...this.phases].map((p) => [label('phase', p), p === this.phase ? 1 : 0]),
    );
    const c = this.counters;
    if (c) {
      metric('keys_read_total', 'counter', 'Keys read from the source.', [['', c.keysRead]]);
      metric('keys_written_total', 'counter', 'Keys written to the target.', [['', c.keysWritten]]);
      metric('commands_read_total', 'counter', 'Commands read (AOF, command stream).', [['', c.commandsRead]]);
      metric('commands_applied_total', 'counter', 'Commands applied to the target.', [['', c.commandsWritten]]);
      metric('bytes_read_total', 'counter', 'Bytes of input read.', [['', c.bytesRead]]);
      metric(
        'keys_skipped_total',
        'counter',
        'Keys not written, by reason.',
        [...c.skipped].map(([r, n]) => [label('reason', r), n]),
      );
      metric('keys_failed_total', 'counter', 'Keys or commands the target refused.', [['', c.failed]]);
    }
    for (const [name, v] of Object.entries(this.gauges())) {
      metric(name.replace(/[^a-zA-Z0-9_]/g, '_'), 'gauge', name.replace(/_/g, ' '), [['', v]]);
    }
    metric('errors', 'gauge', 'Whether the run has met an error (the last one is in /status).', [
      ['', this.lastError ? 1 : 0],
    ]);
    return `${out.join('\n')}\n`;
  }
}

export interface MetricsServer {
  /** The port listened on (the one asked for, or the one the system chose for 0). */
  port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` and `GET /status` of the board on bind:port. */
export async function serveMetrics(board: RunBoard, port: number, bind = '127.0.0.1'): Promise<MetricsServer> {
  // Loaded here, not at start-up: most runs serve no metrics, and node:http is ~25 internal modules to compile.
  const { createServer } = await import('node:http');
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(board.metrics());
    } else if (req.method === 'GET' && path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(board.status())}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics or /status\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bind, () => resolve());
  });
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
