/**
 * Health of an instance behind a leader lease (a PostgreSQL state shared by several instances). While it stands
 * by it has no bot, so this small server answers the health routes itself —
 *
 *   GET /health/live    200 {status: 'live'}
 *   GET /health/ready   503 {status: 'standby', reasons}    (a standby takes no traffic and places no orders)
 *   GET /health         200 {status: 'standby', role, account, holder, ready: false, components: {lease: degraded}}
 *
 * — and, once it holds the lease, while the bot starts (recovery, reconciliation: ready 503). Then the run hands
 * the address over to the bot's whole HTTP face (src/http/server.ts: webhook, operator API, health, metrics),
 * which keeps the lease as a health component and `role` in the /health body (`leaseHealth`).
 */
import { createServer, type Server } from 'node:http';
import { overallHealth, type ComponentHealth } from '../engine/bot.ts';

/** what the lease says of itself (src/adapters/postgres/lease.ts) */
export interface LeaseView {
  readonly role: 'standby' | 'leader' | 'lost' | 'released';
  readonly account: string;
  readonly holder: string | null;
  readonly reason: string | null;
}

export interface LeaseHealthServer {
  readonly address: string;
  /** where it listens (the port really taken, also for a configured port 0): the bot's HTTP face takes it over */
  readonly listen: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

function leaseComponent(l: LeaseView): ComponentHealth {
  if (l.role === 'leader') return { status: 'healthy', reason: null };
  if (l.role === 'lost') return { status: 'unhealthy', reason: l.reason ?? 'lease lost' };
  return { status: 'degraded', reason: `standby: ${l.reason ?? 'waiting for the lease'}` };
}

/** the lease in a health answer: its component (healthy only as leader) and the /health body's role, account, holder */
export function leaseHealth(l: LeaseView): { components: { lease: ComponentHealth }; fields: { role: LeaseView['role']; account: string; holder: string | null } } {
  return { components: { lease: leaseComponent(l) }, fields: { role: l.role, account: l.account, holder: l.holder } };
}

export async function serveLeaseHealth(o: { host: string; port: number; lease: () => LeaseView }): Promise<LeaseHealthServer> {
  const answer = (path: string): { code: number; body: unknown } => {
    const lease = o.lease();
    if (path === '/health/live') return { code: 200, body: { status: 'live', uptimeSeconds: Math.round(process.uptime()) } };
    const h = leaseHealth(lease);
    const reasons: string[] = [];
    // the leader's bot is starting (recovery, reconciliation): not ready until its own server answers
    if (lease.role === 'leader') reasons.push('engine starting: recovery and reconciliation');
    for (const [name, c] of Object.entries(h.components)) if (c.status !== 'healthy') reasons.push(`${name}: ${c.reason ?? c.status}`);
    const ready = reasons.length === 0;
    const standby = lease.role === 'standby';
    if (path === '/health/ready') return { code: ready ? 200 : 503, body: { status: ready ? 'ready' : standby ? 'standby' : 'not_ready', reasons } };
    if (path === '/health') {
      const status = standby ? 'standby' : overallHealth(h.components);
      return { code: status === 'unhealthy' ? 503 : 200, body: { status, ...h.fields, components: h.components, ready } };
    }
    return { code: 404, body: { error: 'NOT_FOUND', message: 'this instance serves only /health, /health/ready and /health/live (it is behind a leader lease)' } };
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const { code, body } = req.method === 'GET' ? answer(path) : { code: 405, body: { error: 'METHOD_NOT_ALLOWED', message: 'GET only' } };
    res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const a = server.address() as { address: string; port: number };
  return {
    address: `http://${a.address}:${a.port}`,
    listen: { host: o.host, port: a.port },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
