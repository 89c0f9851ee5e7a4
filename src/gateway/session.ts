import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Gateway } from './gateway.js';
import type { SessionIdentity } from './ports.js';

/** The gateway's version as agents see it in `serverInfo`. */
export const GATEWAY_VERSION = '0.1.0';

/** One agent session: an SDK `Server` whose handlers hand every request to the gateway with the session's identity. */
export function createSessionServer(gateway: Pick<Gateway, 'listTools' | 'callTool'>, identity: SessionIdentity): Server {
  const server = new Server({ name: 'warden-gateway', version: GATEWAY_VERSION }, { capabilities: { tools: { listChanged: true } } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await gateway.listTools(identity) }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const token = request.params._meta?.progressToken;
    const result = await gateway.callTool(identity, request.params.name, request.params.arguments, {
      signal: extra.signal,
      ...(token !== undefined
        ? { onprogress: (p: { progress: number; total?: number; message?: string }) => void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, ...p } }).catch(() => {}) }
        : {}),
    });
    return result as CallToolResult;
  });
  return server;
}
