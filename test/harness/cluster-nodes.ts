/**
 * Parse `CLUSTER NODES` output (one line per node:
 * `<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...`).
 * Slot entries are `a-b` or `n`; migrating/importing markers `[n->-id]` / `[n-<-id]` are skipped.
 */
export interface NodesLine {
  id: string;
  host: string;
  port: number;
  cport: number;
  flags: string[];
  masterId: string | undefined;
  linkState: string;
  slots: [number, number][];
}

export function parseClusterNodes(text: string): NodesLine[] {
  const out: NodesLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const f = line.split(' ');
    const [id, addr, flags, master, , , , linkState] = f;
    if (!id || !addr || !flags || !master || !linkState) throw new Error(`bad CLUSTER NODES line: ${line}`);
    const m = /^(.*):(\d+)@(\d+)/.exec(addr);
    if (!m) throw new Error(`bad address in CLUSTER NODES: ${addr}`);
    const slots: [number, number][] = [];
    for (const s of f.slice(8)) {
      if (s.startsWith('[')) continue;
      const [a, b] = s.split('-');
      slots.push([Number(a), Number(b ?? a)]);
    }
    out.push({
      id,
      host: m[1] ?? '',
      port: Number(m[2]),
      cport: Number(m[3]),
      flags: flags.split(','),
      masterId: master === '-' ? undefined : master,
      linkState,
      slots,
    });
  }
  return out;
}
