/**
 * Health of an instance behind a leader lease (a PostgreSQL state shared by several instances): while it stands
 * by it has no bot yet, so this small server answers the health routes itself —
 *
 *   GET /health/live    200 {status: 'live'}
 *   GET /health/ready   503 {status: 'standby', reasons}    (a standby takes no traffic and places no orders)
 *   GET /health         200 {status: 'standby', ready: false, components: {lease: {status: 'degraded', reason}}}
 *
 * and once the instance holds the lease it answers for the bot (its components, plus `lease`), with the same
 * readiness rule as the main server (src/http/server.ts).
 */
import { createServer, type Server } from 'node:http';
import { overallHealth, type Bot, type ComponentHealth } from '../engine/bot.ts';

/** what the lease says of itself (src/adapters/postgres/lease.ts) */
export interface LeaseView {
  readonly role: 'standby' | 'leader' | 'lost' | 'released';
  readonly account: string;
  readonly holder: string | null;
  readonly reason: string | null;
}

export interface LeaseHealthServer {
  readonly address: string;
  /** from now on the bot is the one that answers (the lease is held) */
  attach(bot: Bot): void;
  close(): Promise<void>;
}

function leaseComponent(l: LeaseView): ComponentHealth {
  if (l.role === 'leader') return { status: 'healthy', reason: null };
  if (l.role === 'lost') return { status: 'unhealthy', reason: l.reason ?? 'lease lost' };
  return { status: 'degraded', reason: `standby: ${l.reason ?? 'waiting for the lease'}` };
}

export async function serveLeaseHealth(o: { host: string; port: number; lease: () => LeaseView }): Promise<LeaseHealthServer> {
  let bot: Bot | null = null;
  const answer = (path: string): { code: number; body: unknown } => {
    const lease = o.lease();
    if (path === '/health/live') return { code: 200, body: { status: 'live', uptimeSeconds: Math.round(process.uptime()) } };
    const components: Record<string, ComponentHealth> = { ...(bot && lease.role === 'leader' ? bot.status().components : {}), lease: leaseComponent(lease) };
    const reasons: string[] = [];
    if (bot && lease.role === 'leader') {
      const st = bot.status();
      if (st.state !== 'running') reasons.push(`engine ${st.state}${st.error ? `: ${st.error}` : ''}`);
    }
    for (const [name, c] of Object.entries(components)) if (c.status !== 'healthy' && name !== 'engine') reasons.push(`${name}: ${c.reason ?? c.status}`);
    const ready = reasons.length === 0;
    const standby = lease.role === 'standby';
    if (path === '/health/ready') return { code: ready ? 200 : 503, body: { status: ready ? 'ready' : standby ? 'standby' : 'not_ready', reasons } };
    if (path === '/health') {
      const status = standby ? 'standby' : overallHealth(components);
      const st = bot && lease.role === 'leader' ? bot.status() : null;
      return { code: status === 'unhealthy' ? 503 : 200, body: { status, role: lease.role, account: lease.account, holder: lease.holder, ...(st ? { mode: st.mode, state: st.state, pair: st.pair } : {}), components, ready } };
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
    attach: (b) => void (bot = b),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
