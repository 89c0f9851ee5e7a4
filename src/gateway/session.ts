import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  type CallToolResult,
  type GetPromptResult,
  type ReadResourceResult,
  type ServerNotification,
  type ServerRequest,
  ErrorCode,
} from '@modelcontextprotocol/sdk/types.js';
import type { CallOptions, Gateway } from './gateway-api.js';
import { GatewayError } from './results.js';
import type { SessionIdentity } from './ports.js';

/** The gateway's version as agents see it in `serverInfo`. */
export const GATEWAY_VERSION = '0.1.0';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Cancellation and progress relay of one request: the agent's progress token, the upstream's progress. */
function forwarding(extra: Extra, token: string | number | undefined): CallOptions {
  return {
    signal: extra.signal,
    ...(token !== undefined
      ? { onprogress: (p: { progress: number; total?: number; message?: string }) => void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, ...p } }).catch(() => {}) }
      : {}),
  };
}

/**
 * Refuses, as JSON-RPC -32602 before anything is looked up, a name or URI holding NUL (U+0000) or
 * an unpaired surrogate: no upstream serves one, and the store cannot hold or look up such text.
 * Arguments are checked by the gateway after the decision, so a refused call is still audited.
 */
function checkText(what: string, value: string): void {
  const why = value.includes('\u0000') ? 'contains a NUL character (U+0000)' : !value.isWellFormed() ? 'contains an unpaired UTF-16 surrogate' : undefined;
  if (why) throw new GatewayError(ErrorCode.InvalidParams, 'invalid_arguments', `the ${what} ${why}; no upstream serves such a name`);
}

/**
 * One agent session: an SDK `Server` whose handlers hand every request to the gateway with the
 * session's identity. Tools, resources (no subscriptions) and prompts are served; each list is
 * filtered and each call, read and prompt is decided by the checkpoint.
 */
export function createSessionServer(
  gateway: Pick<Gateway, 'listTools' | 'callTool' | 'listResources' | 'listResourceTemplates' | 'readResource' | 'listPrompts' | 'getPrompt'>,
  identity: SessionIdentity,
): Server {
  const server = new Server(
    { name: 'warden-gateway', version: GATEWAY_VERSION },
    { capabilities: { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } } },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await gateway.listTools(identity) }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const result = await gateway.callTool(identity, request.params.name, request.params.arguments, forwarding(extra, request.params._meta?.progressToken));
    return result as CallToolResult;
  });
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: await gateway.listResources(identity) }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: await gateway.listResourceTemplates(identity) }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    checkText('resource URI', request.params.uri);
    const result = await gateway.readResource(identity, request.params.uri, forwarding(extra, request.params._meta?.progressToken));
    return result as ReadResourceResult;
  });
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: await gateway.listPrompts(identity) }));
  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
    checkText('prompt name', request.params.name);
    const result = await gateway.getPrompt(identity, request.params.name, request.params.arguments, forwarding(extra, request.params._meta?.progressToken));
    return result as GetPromptResult;
  });
  return server;
}
