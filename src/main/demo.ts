import { createAuthFailureLimiter } from '../identity/index.js';
import { signallingFailures } from './auth-failure-signal.js';
import type { Logger } from 'pino';
import { createHttpIdentity, listenHttp, type UpstreamSpec } from '../gateway/index.js';
import { startGateway, type GatewayRuntime } from './gateway-runtime.js';
import type { RunningServer } from './server.js';

/** The demo's MCP gateway: one upstream server behind Streamable HTTP, on the server's core. */
export interface DemoGateway {
  /** The MCP endpoint agents connect to. */
  url: string;
  /** Bearer token of the demo agent: an `agent` token of the store, valid for a day. */
  token: string;
  runtime: GatewayRuntime;
  close(): Promise<void>;
}

/** How long the demo agent's token is valid. */
const DEMO_TOKEN_MS = 86_400_000;

/**
 * Puts the gateway in front of `upstream` for `npm start` on the running server's core: one store,
 * one audit writer, one registry and one checkpoint, so the audit API shows the gateway's events and
 * a registry change reaches both. One agent, `demo-agent` acting for bob (a developer), holds a
 * fresh `agent` token of tenant `default` made by the local operator: `warden token revoke` cuts
 * its sessions like any other agent's.
 */
export async function startDemoGateway(server: RunningServer, opts: { scope: string; upstream: UpstreamSpec; port: number; host: string; logger?: Logger }): Promise<DemoGateway> {
  const runtime = await startGateway({
    policies: [...server.config.policies],
    scope: opts.scope,
    upstreams: [opts.upstream],
    database: { shared: server.core },
    upstreamStderr: 'ignore',
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  try {
    const identity = server.core.identity;
    const operator = { tenantId: 'default', method: 'local' as const, id: 'demo', name: 'warden serve --demo', grants: [{ role: 'owner' as const }] };
    const expiresAt = new Date(server.core.clock.now().getTime() + DEMO_TOKEN_MS).toISOString();
    const { token } = await identity.createToken(operator, { name: 'demo-agent', role: 'agent', agentId: 'demo-agent', principal: 'bob', scope: opts.scope, expiresAt });
    const http = await listenHttp(runtime.gateway, {
      port: opts.port,
      host: opts.host,
      identify: createHttpIdentity({
        scope: opts.scope,
        policies: runtime.policies,
        // The token names bob; the binding says what the operator knows of him (his roles).
        agents: [{ id: 'demo-agent', principal: { id: 'bob', roles: ['developer'] } }],
        authenticate: (bearer) => identity.authenticate(bearer),
      }),
      tokens: identity,
      // As `warden gateway --http`: the abuse kill switch, and failed tokens as abuse signals.
      kills: server.core.abuse.kills,
      failures: signallingFailures(createAuthFailureLimiter({ clock: server.core.clock }), server.core.abuse.engine, server.core.clock, 'gateway'),
      audit: runtime.audit,
      clock: server.core.clock,
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    return {
      url: http.url,
      token,
      runtime,
      async close() {
        await http.close();
        await runtime.close();
      },
    };
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
