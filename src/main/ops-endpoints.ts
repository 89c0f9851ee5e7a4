import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readinessOf, type ReadinessCheck } from '../api/rest/health.js';
import type { Metrics } from '../telemetry/index.js';
import { listenErrorOf } from './listen-error.js';

/** What the operational endpoints serve: metrics (behind an optional scrape token) and the probes. */
export interface OpsEndpoints {
  metrics: Pick<Metrics, 'scrape' | 'contentType'>;
  /**
   * The bearer token a scraper must send for `/metrics` (`WARDEN_METRICS_TOKEN`). Without one,
   * `/metrics` is served only on the separate metrics port, never on a port agents or people reach.
   */
  token?: string | undefined;
  readiness: Record<string, ReadinessCheck>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether a request carries the scrape token (compared in constant time). */
export function scrapeAllowed(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  const m = typeof authorization === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(authorization) : null;
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/**
 * Answers `/healthz`, `/readyz` and `/metrics` on a plain node:http listener (the gateway's port and
 * the separate metrics port); returns false for any other path. `/metrics` needs the scrape token
 * when one is set and, with `metricsOnlyWithToken`, is not served at all without one.
 */
export function opsHandler(ops: OpsEndpoints, opts: { metricsOnlyWithToken?: boolean } = {}): (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<boolean> {
  return async (req, res, pathname) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (pathname === '/healthz') {
      send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
      return true;
    }
    if (pathname === '/readyz') {
      const r = await readinessOf(ops.readiness);
      send(res, r.status === 'ready' ? 200 : 503, 'application/json', JSON.stringify(r));
      return true;
    }
    if (pathname === '/metrics') {
      if (opts.metricsOnlyWithToken && ops.token === undefined) return false;
      if (!scrapeAllowed(req.headers.authorization, ops.token)) {
        send(res, 401, 'application/json', JSON.stringify({ error: { code: 'auth.required', message: '/metrics needs the scrape token: send `Authorization: Bearer <WARDEN_METRICS_TOKEN>`' } }), { 'www-authenticate': 'Bearer' });
        return true;
      }
      send(res, 200, ops.metrics.contentType, await ops.metrics.scrape());
      return true;
    }
    return false;
  };
}

/** A listener of its own for the operational endpoints (`--metrics-port`), loopback unless told otherwise. */
export async function listenOps(ops: OpsEndpoints, at: { port: number; host?: string | undefined }): Promise<{ url: string; close(): Promise<void> }> {
  const handle = opsHandler(ops);
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    handle(req, res, pathname)
      .then((answered) => {
        if (!answered) send(res, 404, 'application/json', JSON.stringify({ error: { code: 'request.not_found', message: 'this port serves /metrics, /healthz and /readyz' } }));
      })
      .catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } }));
        else res.end();
      });
  });
  const host = at.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenErrorOf(err, { port: at.port, host })));
    server.listen(at.port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
