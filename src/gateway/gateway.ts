import { messageOf } from './error-message.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Checkpoint } from '../checkpoint/index.js';
import { jsonValueIssue, uuidv7, type Action, type AuditSink, type Clock } from '../domain/index.js';
import { createArgValidator } from './arg-validator.js';
import type { AuditMode } from './audit-mode.js';
import { exposeBlock, exposeUri, qualify, type Namespacing } from './catalog.js';
import type { Gateway } from './gateway-api.js';
import { createGovern } from './governed-request.js';
import { createListings } from './listings.js';
import { refusal, type RefusalKind } from './outcome.js';
import type { ApprovalWaiter, GatewayLogger, GatewayRegistry, GovernedKind, PromptResult, RateLimiter, ResourceResult, ResultInspector, SessionIdentity, ToolResult, UpstreamTracing } from './ports.js';
import { printableName } from './printable-name.js';
import { compileRateLimits, type RateLimitRule } from './rate-limit.js';
import { createResultEvents, type EventTarget } from './result-events.js';
import { rpcErrorOf, toolResultOf } from './results.js';
import { baseAction } from './session-context.js';
import { createSessionServer } from './session.js';
import { createUpstreamCatalog } from './upstream-catalog.js';
import type { UpstreamOptions, UpstreamSpec } from './upstream.js';

/** What the gateway depends on; the composition root builds each. */
export interface GatewayDeps {
  /** The audited pipeline every call passes. */
  checkpoint: Pick<Checkpoint, 'check' | 'resultPayload'>;
  /**
   * The same pipeline with a sink that drops events: used to decide which tools a listing shows
   * without one audit event per tool per listing.
   */
  preview: Pick<Checkpoint, 'check'>;
  registry: GatewayRegistry;
  /** Where the result (`tool.call.completed` …) events go. */
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
  rateLimiter?: RateLimiter | undefined;
  inspector?: ResultInspector | undefined;
  logger?: GatewayLogger | undefined;
  /** Where a call held for approval waits; without it a require_approval decision is refused at once. */
  approvals?: ApprovalWaiter | undefined;
  /** Spans of forwarded requests; without it the agent's trace context is passed upstream as it came. */
  tracing?: UpstreamTracing | undefined;
}

/** The gateway's options; validated by the caller (the CLI or the YAML config loader). */
export interface GatewayOptions {
  upstreams: UpstreamSpec[];
  /** The scope discovery files new servers under. */
  scope: string;
  /** @default 'auto' (own names for one upstream, `server.tool` for several) */
  namespacing?: Namespacing | undefined;
  rateLimits?: RateLimitRule[] | undefined;
  upstream?: UpstreamOptions | undefined;
  /** When a request's decision must be durable: before it is forwarded, or before it is answered. @default DEFAULT_AUDIT_MODE */
  auditMode?: AuditMode | undefined;
  /** How long a request is held waiting for its approval before the agent is told to retry. @default DEFAULT_APPROVAL_WAIT_MS (60 s) */
  approvalWaitMs?: number | undefined;
}

/**
 * Builds the gateway; call `start()` before serving sessions. It wires the upstream catalog, the
 * listings and the one governed flow, and maps each outcome onto the wire at the edge: an `isError`
 * tool result for `tools/call`, a JSON-RPC error (`GatewayError`) for `resources/read` and `prompts/get`.
 */
export function createGateway(deps: GatewayDeps, opts: GatewayOptions): Gateway {
  const namespaced = opts.namespacing === 'always' || (opts.namespacing !== 'never' && opts.upstreams.length > 1);
  const sessions = new Set<Server>();
  const notify = (send: (s: Server) => Promise<void>) => () => {
    for (const s of sessions) void send(s).catch(() => {});
  };
  const catalog = createUpstreamCatalog(
    deps,
    { upstreams: opts.upstreams, scope: opts.scope, namespaced, upstream: opts.upstream },
    { toolsChanged: notify((s) => s.sendToolListChanged()), resourcesChanged: notify((s) => s.sendResourceListChanged()), promptsChanged: notify((s) => s.sendPromptListChanged()) },
  );
  const listings = createListings({ checkpoint: deps.checkpoint, preview: deps.preview, catalog });
  const events = createResultEvents(deps);
  const govern = createGovern({ checkpoint: deps.checkpoint, limits: compileRateLimits(opts.rateLimits ?? [], deps.rateLimiter), events, inspector: deps.inspector, auditMode: opts.auditMode, logger: deps.logger, approvals: deps.approvals, approvalWaitMs: opts.approvalWaitMs, tracing: deps.tracing });
  const validator = createArgValidator();
  /**
   * Audits a request for a name nothing here serves: a refused attempt with no decision, naming the
   * agent and the name as asked (`printableName`), so probes with look-alike names leave a trace.
   */
  const unknown = (id: SessionIdentity, kind: GovernedKind, type: string, why: RefusalKind, target: EventTarget, startedAt: number) =>
    events.write(id, target, kind, undefined, { type, outcome: 'failure', startedAt, refusal: why });

  const gateway: Gateway = {
    start: () => catalog.start(),
    ...listings,

    async callTool(id, name, args, callOpts = {}) {
      const startedAt = performance.now();
      const entry = await catalog.tool(name);
      if ('ok' in entry) {
        if (entry.kind === 'unknown_tool') unknown(id, 'tool.call', 'tool.call.unknown_tool', 'unknown_tool', { kind: 'tool', name: printableName(name) }, startedAt);
        return toolResultOf(entry);
      }
      const server = entry.upstream.spec.name;
      // The catalog read the entry at this connection; a reconnect while deciding must not reach a server that was not decided on.
      const generation = entry.upstream.generation;
      // Arguments JSON cannot carry as they came (too deep, not finite, unpaired surrogates) are left
      // out of the action and refused after the decision: the attempt is audited, nothing is forwarded.
      const malformed = jsonValueIssue(args, { path: '/arguments' });
      const outcome = await govern<ToolResult>({
        identity: id,
        action: { kind: 'tool.call', ...baseAction(id), tool: { server, name: entry.qualified }, ...(args && !malformed ? { args } : {}) },
        target: (action: Action) => ({ kind: 'tool', server, name: entry.qualified, ...(action.tool?.definitionHash ? { definitionHash: action.tool.definitionHash } : {}) }),
        limitName: entry.qualified,
        server,
        describe: { what: 'call', failure: `during the call to \`${entry.exposed}\``, withheld: `the result of \`${entry.exposed}\`` },
        // The schema is checked on what goes out: a masked argument must still be one the tool accepts.
        validate: (decided) => {
          if (malformed) return `the arguments cannot be accepted: \`${malformed.path}\` ${malformed.message}`;
          const issues = validator.check(`${entry.qualified}#${entry.version}`, entry.tool.inputSchema as Record<string, unknown>, decided.args);
          const masked = decided.args !== args ? ' (as Warden redacted them)' : '';
          return issues && `the arguments${masked} do not match the input schema of \`${entry.exposed}\`: ${issues.join('; ')}`;
        },
        forward: (decided, traceparent) => entry.upstream.callTool(entry.tool.name, decided.args, { signal: callOpts.signal, onprogress: callOpts.onprogress, generation, traceparent }),
        traceparent: callOpts.traceparent,
        expose: (r) => (namespaced && Array.isArray(r.content) ? { ...r, content: r.content.map((b) => exposeBlock(server, b, true)) } : r),
        isError: (r) => r.isError === true,
        signal: callOpts.signal,
        progress: callOpts.onprogress,
        confirm: callOpts.confirm,
      });
      if (malformed && !outcome.ok && outcome.kind === 'invalid_arguments') throw rpcErrorOf(outcome, 'call');
      return toolResultOf(outcome);
    },

    async readResource(id, uri, callOpts = {}) {
      const startedAt = performance.now();
      const at = await catalog.locateResource(uri);
      if (!at) {
        unknown(id, 'resource.read', 'resource.read.unknown_resource', 'unknown_resource', { kind: 'resource', uri: printableName(uri) }, startedAt);
        throw rpcErrorOf(refusal('unknown_resource', `no resource \`${printableName(uri)}\` is served here`), 'read');
      }
      const server = at.upstream.spec.name;
      // Decide, rate-limit, audit and forward the URI as a URL parser reads it: an upstream built on the
      // SDK resolves `..`, `%2e`, the scheme's case and `localhost` before it serves, so a policy on
      // `file:///secret/*` must see `file:///public/../secret/key` as what it is.
      const own = canonicalUri(at.own);
      const outcome = await govern<ResourceResult>({
        identity: id,
        action: { kind: 'resource.read', ...baseAction(id), resource: { uri: own, server } },
        target: () => ({ kind: 'resource', server, uri: own }),
        limitName: own,
        server,
        describe: { what: 'read', failure: `on the read of \`${uri}\``, withheld: `the read of \`${uri}\`` },
        forward: (_decided, traceparent) => at.upstream.readResource(own, { ...callOpts, traceparent }),
        traceparent: callOpts.traceparent,
        signal: callOpts.signal,
        progress: callOpts.onprogress,
        confirm: callOpts.confirm,
        expose: (r) => (namespaced ? { ...r, contents: r.contents.map((c) => ({ ...c, uri: exposeUri(server, c.uri, true) })) } : r),
      });
      if (!outcome.ok) throw rpcErrorOf(outcome, 'read');
      return outcome.result;
    },

    async getPrompt(id, name, args, callOpts = {}) {
      const startedAt = performance.now();
      const at = await catalog.locatePrompt(name);
      if (!at) {
        unknown(id, 'prompt.get', 'prompt.get.unknown_prompt', 'unknown_prompt', { kind: 'prompt', name: printableName(name) }, startedAt);
        throw rpcErrorOf(refusal('unknown_prompt', `no prompt named \`${printableName(name)}\` is served here`), 'prompt');
      }
      const server = at.upstream.spec.name;
      const qualified = qualify(server, at.own);
      const malformed = jsonValueIssue(args, { path: '/arguments' });
      const outcome = await govern<PromptResult>({
        identity: id,
        action: { kind: 'prompt.get', ...baseAction(id), tool: { server, name: qualified }, ...(args && !malformed ? { args } : {}) },
        target: () => ({ kind: 'prompt', server, name: qualified }),
        limitName: qualified,
        server,
        describe: { what: 'prompt', failure: `on the prompt \`${name}\``, withheld: `the prompt \`${name}\`` },
        validate: (decided) => {
          if (malformed) return `the arguments cannot be accepted: \`${malformed.path}\` ${malformed.message}`;
          return promptArgsOf(decided.args) === null ? `the arguments of the prompt \`${name}\` must all be strings` : undefined;
        },
        forward: (decided, traceparent) => at.upstream.getPrompt(at.own, promptArgsOf(decided.args) ?? undefined, { ...callOpts, traceparent }),
        traceparent: callOpts.traceparent,
        signal: callOpts.signal,
        progress: callOpts.onprogress,
        confirm: callOpts.confirm,
        expose: (r) => (namespaced ? { ...r, messages: r.messages.map((m) => ({ ...m, content: exposeBlock(server, m.content, true) })) } : r),
      });
      if (!outcome.ok) throw rpcErrorOf(outcome, 'prompt');
      return outcome.result;
    },

    async connect(transport, identity) {
      // Each session its own id: a `session` approval is reused only within it.
      const server = createSessionServer(gateway, { ...identity, sessionId: identity.sessionId ?? uuidv7() });
      sessions.add(server);
      server.onclose = () => sessions.delete(server);
      await server.connect(transport);
      return server;
    },

    flushResults: () => events.flush(),
    upstream: (name) => catalog.upstream(name),
    upstreamStatus: (timeoutMs = 2000) =>
      Promise.all(
        catalog.upstreams().map(async (u) => {
          if (u.connected) return { server: u.spec.name, connected: true };
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([u.client(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
            return { server: u.spec.name, connected: true };
          } catch (err) {
            return { server: u.spec.name, connected: false, error: messageOf(err) };
          } finally {
            clearTimeout(timer);
          }
        }),
      ),
    sessionCount: () => sessions.size,

    async close() {
      await Promise.all([...sessions].map((s) => s.close().catch(() => {})));
      await catalog.close();
      await events.flush();
    },
  };
  return gateway;
}

/**
 * A prompt's arguments as MCP sends them (every value a string), from the decided action's; null
 * when a value is not a string, which a prompt cannot take.
 */
function promptArgsOf(args: Action['args']): Record<string, string> | undefined | null {
  if (args === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(args)) {
    if (typeof v !== 'string') return null;
    out[k] = v;
  }
  return out;
}

/** A URI as the WHATWG URL parser normalizes it (dot segments, scheme case, `file://localhost/`); unparseable text as is. */
export function canonicalUri(uri: string): string {
  return URL.canParse(uri) ? new URL(uri).href : uri;
}
