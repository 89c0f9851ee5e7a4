import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Gateway } from '../gateway-api.js';
import type { SessionIdentity } from '../ports.js';
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
  /** Most open sessions; further initializations get 503. @default 10000 */
  maxSessions?: number | undefined;
  /** Largest request body. @default 4 MiB */
  maxBodyBytes?: number | undefined;
}

/** A listening Streamable HTTP edge. */
export interface HttpListener {
  url: string;
  sessions(): number;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  identity: SessionIdentity;
}

/**
 * Serves many agent sessions over Streamable HTTP: one SDK transport and one session server per
 * `Mcp-Session-Id`, each bound to the identity that opened it (another token cannot use it).
 */
export async function listenHttp(gateway: Pick<Gateway, 'connect'>, opts: HttpListenOptions): Promise<HttpListener> {
  const path = opts.path ?? '/mcp';
  const sessions = new Map<string, Session>();
  const maxBody = opts.maxBodyBytes ?? 4 * 1024 * 1024;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) return reply(res, 404, 'not found');
    const identity = await opts.identify(req);
    if (!identity) return reply(res, 401, 'missing or unknown credentials', { 'www-authenticate': 'Bearer' });
    if ('refused' in identity) return reply(res, identity.refused.status, identity.refused.message, {}, identity.refused.code);
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const session = sessions.get(sid);
      if (!session) return reply(res, 404, 'session not found');
      if (session.identity.agentId !== identity.agentId || session.identity.scope !== identity.scope) return reply(res, 403, 'the session belongs to another identity');
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') return reply(res, 400, 'no session: send an initialize request first');
    const body = await readJson(req, maxBody);
    if (body === undefined || !isInitializeRequest(body)) return reply(res, 400, 'no session: send an initialize request first');
    if (sessions.size >= (opts.maxSessions ?? 10_000)) return reply(res, 503, 'too many sessions');
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, { transport, identity }),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await gateway.connect(transport, identity);
    await transport.handleRequest(req, res, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) reply(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}${path}`,
    sessions: () => sessions.size,
    async close() {
      await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => {})));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code?: string): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message, ...(code ? { data: { code } } : {}) }, id: null }));
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
