import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { canonicalHostName, hostNameOfHeader, newAuditEvent, systemClock, type AuditEvent, type AuditSink, type Clock, type ErrorCode } from '../../domain/index.js';
import type { AuthFailureLimiter, IdentityService } from '../../identity/index.js';
import type { Gateway } from '../gateway-api.js';
import type { AgentKill, GatewayLogger, KillFeed, SessionIdentity } from '../ports.js';
import type { IdentityRefusal } from './http-identity.js';

/** Options of the Streamable HTTP listener agents connect to. */
export interface HttpListenOptions {
  /** @default 0 (any free port) */
  port?: number | undefined;
  /** @default '127.0.0.1' */
  host?: string | undefined;
  /** @default '/mcp' */
  path?: string | undefined;
  /** Resolves a request's identity; undefined answers 401, an `IdentityRefusal` its status with its code. */
  identify(req: IncomingMessage): SessionIdentity | IdentityRefusal | undefined | Promise<SessionIdentity | IdentityRefusal | undefined>;
  /** Most open sessions in all; further initializations get 503. @default 10000 */
  maxSessions?: number | undefined;
  /** Most open sessions one agent may hold, so one token cannot take them all; its further initializations get 429. @default 50 */
  maxSessionsPerAgent?: number | undefined;
  /**
   * A session that has seen no request for this long is closed and its resources released. A session
   * with a request or a notification stream (GET) still open is not idle. @default 900000 (15 min)
   */
  idleTimeoutMs?: number | undefined;
  /** How often idle sessions are looked for (an expired session's own next request finds it expired at once). @default a quarter of `idleTimeoutMs`, between 1 s and 60 s */
  sweepIntervalMs?: number | undefined;
  /**
   * The identity store's token check. With it, the listener asks every `tokenSweepMs` which of the
   * tokens its sessions were opened with are revoked or expired (one query for all sessions) and
   * closes those sessions, auditing `gateway.session.revoked`. A sweep the store does not answer
   * closes nothing: sessions outlive a store outage (their requests fail closed meanwhile).
   */
  tokens?: Pick<IdentityService, 'invalidTokens'> | undefined;
  /** How often the tokens of open sessions are checked. @default 250 */
  tokenSweepMs?: number | undefined;
  /** Largest request body. @default 4 MiB */
  maxBodyBytes?: number | undefined;
  /** The clock idle time is measured on. @default the system clock */
  clock?: Clock | undefined;
  /** Where a refused session is audited (`gateway.session.refused`); without one, it is only logged. */
  audit?: Pick<AuditSink, 'append'> | undefined;
  logger?: GatewayLogger | undefined;
  /**
   * Host names the listener answers to, the DNS-rebinding defence a local MCP server needs: a web page
   * that rebinds its own name to 127.0.0.1 still sends its own name as `Host`. `'any'` turns it off.
   * @default the loopback names when bound to a loopback address, else 'any'
   */
  allowedHosts?: readonly string[] | 'any' | undefined;
  /**
   * Browser origins that may call the gateway. A request carrying any other `Origin` is refused (403),
   * as MCP's Streamable HTTP transport asks of servers; clients outside a browser send none. @default none
   */
  allowedOrigins?: readonly string[] | undefined;
  /** Counts failed authentications per address; over its limit an address gets 429 until the window ends. */
  failures?: AuthFailureLimiter | undefined;
  /**
   * The abuse kill switch: a kill closes every session its agent (in its tenant) opened before it,
   * auditing `abuse.sessions.killed`. Kills of this process apply at once; others' are polled every
   * `tokenSweepMs`, so a kill anywhere ends the sessions within a second.
   */
  kills?: KillFeed | undefined;
  /**
   * Answers the operational routes (`/healthz`, `/readyz`, `/metrics`) before authentication, after
   * the Host and Origin checks; returns whether it answered. Without it only the MCP path is served.
   */
  ops?: ((req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<boolean>) | undefined;
}

const LOOPBACK_BINDS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** A listening Streamable HTTP edge. */
export interface HttpListener {
  url: string;
  sessions(): number;
  /**
   * Closes now every session idle for longer than the idle timeout, and every session whose token
   * is revoked or expired (the listener also does both on timers).
   */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  identity: SessionIdentity;
  /** When the last request of the session ended (or began), on the listener's clock. */
  lastSeen: number;
  /** Requests still open (an SSE stream counts until it closes): a busy session is never idle. */
  busy: number;
  /** When it opened, on the system clock (kills are stamped by the system clock too). */
  openedAt: number;
}

/** A session limit an initialization ran into. */
interface SessionLimit {
  status: 429 | 503;
  code: ErrorCode;
  limit: 'maxSessionsPerAgent' | 'maxSessions';
  max: number;
  message: string;
}

/**
 * Serves many agent sessions over Streamable HTTP: one SDK transport and one session server per
 * `Mcp-Session-Id`, each bound to the identity that opened it (another token cannot use it). Sessions
 * are capped in all and per agent, and closed once idle.
 */
export async function listenHttp(gateway: Pick<Gateway, 'connect'>, opts: HttpListenOptions): Promise<HttpListener> {
  const path = opts.path ?? '/mcp';
  const sessions = new Map<string, Session>();
  const maxBody = opts.maxBodyBytes ?? 4 * 1024 * 1024;
  const maxSessions = opts.maxSessions ?? 10_000;
  const maxPerAgent = opts.maxSessionsPerAgent ?? 50;
  const idleMs = opts.idleTimeoutMs ?? 15 * 60_000;
  const clock = opts.clock ?? systemClock;
  const now = () => clock.now().getTime();
  // INVARIANT: `held` counts every session of an agent from the moment its initialization passes the
  // limits until its transport closes, so concurrent initializations cannot overshoot the caps.
  const held = new Map<string, number>();
  let total = 0;
  const audits = new Set<Promise<unknown>>();

  const reserve = (agentId: string) => {
    held.set(agentId, (held.get(agentId) ?? 0) + 1);
    total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      total--;
      const n = (held.get(agentId) ?? 1) - 1;
      if (n === 0) held.delete(agentId);
      else held.set(agentId, n);
    };
  };

  const limitFor = (identity: SessionIdentity): SessionLimit | undefined => {
    const idle = `idle sessions close after ${duration(idleMs)}`;
    if ((held.get(identity.agentId) ?? 0) >= maxPerAgent) {
      const message = `agent \`${identity.agentId}\` already holds ${maxPerAgent} open sessions, the most one agent may hold; close sessions it no longer uses (HTTP DELETE with their Mcp-Session-Id) or wait, ${idle}`;
      return { status: 429, code: 'gateway.session_limit', limit: 'maxSessionsPerAgent', max: maxPerAgent, message };
    }
    if (total >= maxSessions) {
      return { status: 503, code: 'gateway.session_limit', limit: 'maxSessions', max: maxSessions, message: `the gateway holds ${maxSessions} open sessions, the most it serves; retry later, ${idle}` };
    }
    return undefined;
  };

  const auditRefusal = (identity: SessionIdentity, limit: SessionLimit) => {
    const details = { limit: limit.limit, max: limit.max, code: limit.code };
    opts.logger?.warn({ agentId: identity.agentId, ...details }, 'refused a new session');
    if (!opts.audit) return;
    const event = newAuditEvent(
      {
        ...(identity.tenantId !== undefined ? { tenantId: identity.tenantId } : {}),
        scope: identity.scope,
        category: 'auth',
        type: 'gateway.session.refused',
        severity: 'medium',
        outcome: 'denied',
        actor: { type: 'agent', id: identity.agentId, authMethod: identity.via, ...(identity.ip ? { ip: identity.ip } : {}), ...(identity.userAgent ? { userAgent: identity.userAgent } : {}) },
        agent: { id: identity.agentId },
        target: { kind: 'agent', name: identity.agentId },
        details,
      },
      clock.now(),
    );
    // The refusal does not wait for the write (a refused agent must not hold the listener up); close() does.
    track(event, 'could not audit a refused session');
  };

  const track = (event: AuditEvent, failure: string) => {
    if (!opts.audit) return;
    const write = opts.audit
      .append([event])
      .catch((err) => opts.logger?.error({ err: String(err) }, failure))
      .finally(() => audits.delete(write));
    audits.add(write);
  };

  const expired = (s: Session) => s.busy === 0 && now() - s.lastSeen >= idleMs;
  const expire = async (id: string, s: Session) => {
    sessions.delete(id);
    opts.logger?.info({ agentId: s.identity.agentId, idleMs }, 'closed an idle session');
    // Closing the transport closes its session server, which releases it from the gateway (transport.onclose).
    await s.transport.close().catch(() => {});
  };
  const sweepIdle = async () => {
    await Promise.all([...sessions].filter(([, s]) => expired(s)).map(([id, s]) => expire(id, s)));
  };

  /** Ends a session whose token is no longer valid: its streams close and its id answers 404 from now on. */
  const cut = async (id: string, s: Session) => {
    sessions.delete(id);
    const token = s.identity.token!;
    opts.logger?.warn({ agentId: s.identity.agentId, token: `wdn_${token.id}` }, 'closed a session: its token was revoked or expired');
    track(
      newAuditEvent(
        {
          ...(s.identity.tenantId !== undefined ? { tenantId: s.identity.tenantId } : {}),
          scope: s.identity.scope,
          category: 'auth',
          type: 'gateway.session.revoked',
          severity: 'medium',
          outcome: 'success',
          actor: { type: 'system', id: 'warden-gateway' },
          agent: { id: s.identity.agentId },
          target: { kind: 'token', name: `wdn_${token.id}` },
          details: { token: `wdn_${token.id}`, tokenName: token.name, reason: 'the token was revoked, expired or deleted' },
        },
        clock.now(),
      ),
      'could not audit a revoked session',
    );
    await s.transport.close().catch(() => {});
  };
  // INVARIANT: at most one token sweep runs at a time, so a slow store never stacks queries up.
  let tokenSweep: Promise<void> | undefined;
  let storeDown = false;
  const sweepTokens = () =>
    (tokenSweep ??= (async () => {
      const held = [...sessions].filter(([, s]) => s.identity.token !== undefined);
      if (!opts.tokens || held.length === 0) return;
      let invalid: Set<string>;
      try {
        invalid = new Set(await opts.tokens.invalidTokens([...new Set(held.map(([, s]) => s.identity.token!.id))]));
      } catch (err) {
        // Keep the sessions: an outage is not a revocation. Their requests fail closed meanwhile.
        if (!storeDown) opts.logger?.error({ err: String(err) }, 'could not check the tokens of open sessions; they stay open until the identity store answers');
        storeDown = true;
        return;
      }
      if (storeDown) opts.logger?.info({}, 'the identity store answers again; checking the tokens of open sessions');
      storeDown = false;
      await Promise.all(held.filter(([id, s]) => invalid.has(s.identity.token!.id) && sessions.get(id) === s).map(([id, s]) => cut(id, s)));
    })().finally(() => (tokenSweep = undefined)));

  /** Applies one kill: closes its agent's sessions opened before it, once per kill. */
  const seenKills = new Set<string>();
  const kill = async (k: AgentKill) => {
    if (seenKills.has(k.id)) return;
    if (seenKills.size >= 10_000) seenKills.clear();
    seenKills.add(k.id);
    const doomed = [...sessions].filter(([, s]) => s.identity.agentId === k.agentId && (s.identity.tenantId ?? 'default') === k.tenantId && s.openedAt <= k.at.getTime());
    if (doomed.length === 0) return;
    for (const [id] of doomed) sessions.delete(id);
    opts.logger?.warn({ agentId: k.agentId, sessions: doomed.length, by: k.by }, 'killed the live sessions of an agent (abuse kill switch)');
    track(
      newAuditEvent(
        {
          tenantId: k.tenantId,
          scope: doomed[0]![1].identity.scope,
          category: 'detection',
          type: 'abuse.sessions.killed',
          severity: 'high',
          outcome: 'success',
          actor: { type: 'system', id: 'warden-gateway' },
          agent: { id: k.agentId },
          target: { kind: 'agent', name: k.agentId },
          details: { kill: k.id, by: k.by, reason: k.reason, sessions: doomed.length, latencyMs: Math.max(0, Date.now() - k.at.getTime()) },
        },
        clock.now(),
      ),
      'could not audit a kill',
    );
    await Promise.all(doomed.map(([, s]) => s.transport.close().catch(() => {})));
  };
  // Polled from a little before the last look, so a kill committed just as a poll ran is not missed (seenKills dedupes).
  let killsFrom = new Date(Date.now() - 1000);
  let killSweep: Promise<void> | undefined;
  const sweepKills = () =>
    (killSweep ??= (async () => {
      if (!opts.kills || sessions.size === 0) return;
      const from = killsFrom;
      const started = Date.now();
      let found: AgentKill[];
      try {
        found = await opts.kills.since(from);
      } catch (err) {
        opts.logger?.error({ err: String(err) }, 'could not read abuse kills; sessions stay open until the store answers');
        return;
      }
      killsFrom = new Date(started - 1000);
      for (const k of found) await kill(k);
    })().finally(() => (killSweep = undefined)));
  const unsubscribe = opts.kills?.subscribe((k) => void kill(k));
  const sweep = async () => {
    await Promise.all([sweepIdle(), sweepTokens(), sweepKills()]);
  };

  const hostsOption = opts.allowedHosts ?? (LOOPBACK_BINDS.has(opts.host ?? '127.0.0.1') ? LOOPBACK_NAMES : 'any');
  const hosts = hostsOption === 'any' ? undefined : new Set(hostsOption.map((h) => canonicalHostName(h) ?? h.toLowerCase()));
  const origins = new Set(opts.allowedOrigins ?? []);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-store');
    if (hosts) {
      const host = typeof req.headers.host === 'string' ? hostNameOfHeader(req.headers.host) : undefined;
      if (host === undefined || !hosts.has(host)) {
        return reply(res, 421, `this gateway does not answer to the Host \`${String(req.headers.host ?? '').slice(0, 100)}\` (a defence against DNS rebinding); it answers to ${[...hosts].join(', ')}`, {}, { code: 'request.host_refused' });
      }
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin)) {
      return reply(res, 403, `requests from the web origin \`${origin.slice(0, 100)}\` are not allowed; start the gateway with --allow-origin ${origin.slice(0, 100)} to allow it`, {}, { code: 'request.cors_refused' });
    }
    const ip = req.socket.remoteAddress ?? 'unknown';
    const wait = opts.failures?.blocked(ip);
    if (wait !== undefined) return reply(res, 429, `too many failed authentications from this address; retry in ${wait} s`, { 'retry-after': String(wait) }, { code: 'auth.rate_limited' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      if (opts.ops && (await opts.ops(req, res, url.pathname))) return;
      return reply(res, 404, 'not found');
    }
    const identity = await opts.identify(req);
    if (!identity || ('refused' in identity && identity.refused.status === 401)) opts.failures?.failed(ip);
    if (!identity) return reply(res, 401, 'missing or unknown credentials', { 'www-authenticate': 'Bearer' });
    if ('refused' in identity) {
      const { status, message, code } = identity.refused;
      return reply(res, status, message, status === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"' } : status === 503 ? { 'retry-after': '1' } : {}, { code });
    }
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const session = sessions.get(sid);
      if (session && expired(session)) await expire(sid, session);
      if (!session || !sessions.has(sid)) return reply(res, 404, 'session not found: it was closed or expired; send an initialize request to open a new one');
      if (!sameIdentity(session.identity, identity)) return reply(res, 403, 'the session belongs to another identity');
      session.busy++;
      session.lastSeen = now();
      res.once('close', () => {
        session.busy--;
        session.lastSeen = now();
      });
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') return reply(res, 400, 'no session: send an initialize request first');
    const body = await readJson(req, maxBody);
    if (body === undefined || !isInitializeRequest(body)) return reply(res, 400, 'no session: send an initialize request first');
    const limit = limitFor(identity);
    if (limit) {
      auditRefusal(identity, limit);
      return reply(res, limit.status, limit.message, { 'retry-after': String(limit.status === 503 ? 60 : Math.ceil(idleMs / 1000)) }, { code: limit.code, limit: limit.limit, max: limit.max });
    }
    const release = reserve(identity.agentId);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, { transport, identity, lastSeen: now(), busy: 0, openedAt: Date.now() }),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
      release();
    };
    try {
      await gateway.connect(transport, identity);
      await transport.handleRequest(req, res, body);
    } finally {
      // An initialization that opened no session gives its slot (and its session server) back.
      if (!transport.sessionId || !sessions.has(transport.sessionId)) {
        release();
        await transport.close().catch(() => {});
      }
    }
  };

  // TCP keep-alive probes find peers that vanished without closing, so their open streams end and their sessions can go idle.
  const server = createServer({ keepAlive: true, keepAliveInitialDelay: 60_000 }, (req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) reply(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const sweeper = setInterval(() => void sweepIdle(), opts.sweepIntervalMs ?? Math.min(60_000, Math.max(1000, idleMs / 4)));
  sweeper.unref();
  // A revoked token's sessions end within this period plus one query, well under a second.
  const tokenSweeper = opts.tokens || opts.kills ? setInterval(() => void Promise.all([sweepTokens(), sweepKills()]), opts.tokenSweepMs ?? 250) : undefined;
  tokenSweeper?.unref();
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}${path}`,
    sessions: () => sessions.size,
    sweep,
    async close() {
      clearInterval(sweeper);
      clearInterval(tokenSweeper);
      unsubscribe?.();
      await Promise.all([tokenSweep, killSweep]);
      await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => {})));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...audits]);
    },
  };
}

/** A session serves only the identity that opened it: the same agent, scope, tenant and token. */
function sameIdentity(a: SessionIdentity, b: SessionIdentity): boolean {
  return a.agentId === b.agentId && a.scope === b.scope && a.tenantId === b.tenantId && a.token?.id === b.token?.id;
}

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, data?: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message, ...(data ? { data } : {}) }, id: null }));
}

/** `90 s`, `15 min`: a duration as a message says it. */
function duration(ms: number): string {
  return ms < 120_000 ? `${Math.ceil(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
