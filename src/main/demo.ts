import type { Logger } from 'pino';
import { createHttpIdentity, listenHttp, type UpstreamSpec } from '../gateway/index.js';
import { startGateway, type GatewayRuntime } from './gateway-runtime.js';
import type { RunningServer } from './server.js';

/** The demo's MCP gateway: one upstream server behind Streamable HTTP, on the server's core. */
export interface DemoGateway {
  /** The MCP endpoint agents connect to. */
  url: string;
  /** Bearer token of the demo agent. */
  token: string;
  runtime: GatewayRuntime;
  close(): Promise<void>;
}

/**
 * Puts the gateway in front of `upstream` for `npm start` on the running server's core: one store,
 * one audit writer, one registry and one checkpoint, so the audit API shows the gateway's events and
 * a registry change reaches both. One agent, `demo-agent`, holds `token`.
 */
export async function startDemoGateway(server: RunningServer, opts: { scope: string; upstream: UpstreamSpec; port: number; host: string; token: string; logger?: Logger }): Promise<DemoGateway> {
  const runtime = await startGateway({
    policies: [...server.config.policies],
    scope: opts.scope,
    upstreams: [opts.upstream],
    database: { shared: server.core },
    upstreamStderr: 'ignore',
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  try {
    const http = await listenHttp(runtime.gateway, {
      port: opts.port,
      host: opts.host,
      identify: createHttpIdentity({ scope: opts.scope, policies: runtime.policies, agents: [{ id: 'demo-agent', token: opts.token, principal: { id: 'bob', roles: ['developer'] } }] }),
    });
    return {
      url: http.url,
      token: opts.token,
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
