import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
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
import { echoText } from '../domain/index.js';
import type { CallOptions, Gateway } from './gateway-api.js';
import { GatewayError } from './results.js';
import type { SessionIdentity } from './ports.js';

/** The gateway's version as agents see it in `serverInfo`. */
export const GATEWAY_VERSION = '0.1.0';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Asks the client's user to confirm a call (MCP elicitation, form mode), when the client declared it
 * can: `accept` only for an acceptance with the box ticked; a dismissal or failure is no answer.
 */
function confirmer(server: Server, extra: Extra): CallOptions['confirm'] {
  if (!server.getClientCapabilities()?.elicitation) return undefined;
  return async (message) => {
    try {
      const answer = await server.elicitInput(
        { mode: 'form', message, requestedSchema: { type: 'object', properties: { allow: { type: 'boolean', title: 'Allow this call', description: 'Allow the agent to make exactly this call' } }, required: ['allow'] } },
        { signal: extra.signal },
      );
      if (answer.action === 'accept') return answer.content?.allow === true ? 'accept' : 'decline';
      return answer.action === 'decline' ? 'decline' : 'unanswered';
    } catch {
      return 'unanswered';
    }
  };
}

/**
 * The agent's W3C trace context: the request's `_meta.traceparent` (how MCP carries it, whatever the
 * transport), else the HTTP request's `traceparent` header. Malformed values are passed on as they
 * are and ignored where they are parsed: they start a new trace, never fail a request.
 */
function traceparentOf(meta: Record<string, unknown> | undefined, extra: Extra): string | undefined {
  const own = meta?.traceparent;
  if (typeof own === 'string' && own.length <= 256) return own;
  const header = extra.requestInfo?.headers.traceparent;
  return typeof header === 'string' && header.length <= 256 ? header : undefined;
}

/** Cancellation and progress relay of one request: the agent's progress token, the upstream's progress, its trace context. */
function forwarding(extra: Extra, meta: Record<string, unknown> | undefined, server?: Server): CallOptions {
  const confirm = server ? confirmer(server, extra) : undefined;
  const token = meta?.progressToken as string | number | undefined;
  const traceparent = traceparentOf(meta, extra);
  return {
    signal: extra.signal,
    ...(traceparent ? { traceparent } : {}),
    ...(confirm ? { confirm } : {}),
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

/** A resource URI must be absolute (`scheme:…`, RFC 3986), as every MCP resource's is. */
function checkUri(uri: string): void {
  checkText('resource URI', uri);
  if (!URL.canParse(uri)) throw new GatewayError(ErrorCode.InvalidParams, 'invalid_arguments', `the resource URI \`${echoText(uri)}\` is not an absolute URI such as \`file:///notes.txt\``);
}

/** The request schemas the session serves; each is parsed by {@link handle}. */
type RequestSchema =
  | typeof ListToolsRequestSchema
  | typeof CallToolRequestSchema
  | typeof ListResourcesRequestSchema
  | typeof ListResourceTemplatesRequestSchema
  | typeof ReadResourceRequestSchema
  | typeof ListPromptsRequestSchema
  | typeof GetPromptRequestSchema;

/** Most schema problems one -32602 names. */
const MAX_PARAM_ISSUES = 5;

/**
 * Each request schema cut down to its method literal, which is all the SDK checks on the way in.
 * Derived once for all sessions: a derived zod schema costs kilobytes, and every session registers seven.
 */
const methodOnly = new Map<RequestSchema, RequestSchema>();
function byMethod<S extends RequestSchema>(schema: S): S {
  let cut = methodOnly.get(schema);
  if (!cut) methodOnly.set(schema, (cut = schema.pick({ method: true }).loose() as unknown as S));
  return cut as S;
}

/**
 * Registers a handler whose params are parsed here rather than by the SDK, which answers a
 * malformed request with -32603 and zod's JSON: a request of the wrong shape is -32602 naming each
 * path (`params.arguments.who` expected string, received number).
 */
function handle<S extends RequestSchema>(server: Server, schema: S, handler: (request: ReturnType<S['parse']>, extra: Extra) => Promise<unknown>): void {
  // Only the method literal is checked on the way in; the whole request is parsed below.
  server.setRequestHandler(byMethod(schema), (async (raw: unknown, extra: Extra) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, MAX_PARAM_ISSUES).map((i) => `\`${i.path.map((p) => echoText(String(p))).join('.')}\` ${i.message.charAt(0).toLowerCase()}${i.message.slice(1)}`);
      const more = parsed.error.issues.length - issues.length;
      throw new GatewayError(ErrorCode.InvalidParams, 'invalid_arguments', `the \`${schema.shape.method.value}\` request is invalid: ${issues.join('; ')}${more > 0 ? `; and ${more} more` : ''}`);
    }
    return handler(parsed.data as ReturnType<S['parse']>, extra);
  }) as never);
}

/**
 * The validator the SDK's `Server` checks elicitation answers with, one for all sessions: left to
 * itself, every `Server` builds an Ajv instance of its own (about 15 kB each), and a gateway session
 * never elicits.
 */
let sharedValidator: AjvJsonSchemaValidator | undefined;

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
    {
      capabilities: { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } },
      jsonSchemaValidator: (sharedValidator ??= new AjvJsonSchemaValidator()),
    },
  );
  handle(server, ListToolsRequestSchema, async () => ({ tools: await gateway.listTools(identity) }));
  handle(server, CallToolRequestSchema, async (request, extra) => {
    const result = await gateway.callTool(identity, request.params.name, request.params.arguments, forwarding(extra, request.params._meta, server));
    return result as CallToolResult;
  });
  handle(server, ListResourcesRequestSchema, async () => ({ resources: await gateway.listResources(identity) }));
  handle(server, ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: await gateway.listResourceTemplates(identity) }));
  handle(server, ReadResourceRequestSchema, async (request, extra) => {
    checkUri(request.params.uri);
    const result = await gateway.readResource(identity, request.params.uri, forwarding(extra, request.params._meta, server));
    return result as ReadResourceResult;
  });
  handle(server, ListPromptsRequestSchema, async () => ({ prompts: await gateway.listPrompts(identity) }));
  handle(server, GetPromptRequestSchema, async (request, extra) => {
    checkText('prompt name', request.params.name);
    const result = await gateway.getPrompt(identity, request.params.name, request.params.arguments, forwarding(extra, request.params._meta, server));
    return result as GetPromptResult;
  });
  return server;
}
