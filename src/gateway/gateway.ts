import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import { ErrorCode, type Prompt as McpPrompt, type Resource as McpResource, type ResourceTemplate as McpResourceTemplate, type Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { CallerInfo, Checkpoint } from '../checkpoint/index.js';
import { newAuditEvent, type Action, type AuditSink, type Clock, type AuditEvent, type AuditOutcome, type Decision } from '../domain/index.js';
import { createArgValidator } from './arg-validator.js';
import { exposeUri, qualify, type CatalogEntry, type Namespacing } from './catalog.js';
import type { GatewayLogger, GatewayRegistry, InspectedResult, PromptResult, RateLimiter, ResourceResult, ResultInspector, SessionIdentity, ToolResult } from './ports.js';
import { globMatcher, type RateLimitRule } from './rate-limit.js';
import { deniedError, deniedResult, errorResult, GatewayError, POLICY_DENIED, RATE_LIMITED, RESOURCE_NOT_FOUND, type RefusalKind } from './results.js';

/** The request kinds rate limits count. */
type LimitedKind = 'tool.call' | 'resource.read' | 'prompt.get';
import { createSessionServer } from './session.js';
import { Upstream, type UpstreamOptions, type UpstreamSpec } from './upstream.js';

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
}

/** Options of one forwarded call. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  onprogress?: ((p: { progress: number; total?: number; message?: string }) => void) | undefined;
}

/** The MCP proxy: discovery, filtered listings and checked calls over one or more upstreams. */
export interface Gateway {
  /** Connects every upstream and registers what it lists; fails when the only upstream cannot start. */
  start(): Promise<void>;
  /** The tools this session may see (see docs/gateway.md, "What a listing shows"). */
  listTools(identity: SessionIdentity): Promise<McpTool[]>;
  /** Decides, checks and forwards one call; refusals come back as `isError` results, never as throws. */
  callTool(identity: SessionIdentity, name: string, args: Record<string, unknown> | undefined, opts?: CallOptions): Promise<ToolResult>;
  /** The resources this session may read, from every upstream (URIs are `server+uri` when aggregating). */
  listResources(identity: SessionIdentity): Promise<McpResource[]>;
  /** The resource templates this session may read through. */
  listResourceTemplates(identity: SessionIdentity): Promise<McpResourceTemplate[]>;
  /** Decides, checks and forwards one read; a refusal throws a `GatewayError` (a JSON-RPC error), never hangs. */
  readResource(identity: SessionIdentity, uri: string, opts?: CallOptions): Promise<ResourceResult>;
  /** The prompts this session may get (named `server.prompt` when aggregating). */
  listPrompts(identity: SessionIdentity): Promise<McpPrompt[]>;
  /** Decides, checks and forwards one `prompts/get`; a refusal throws a `GatewayError`. */
  getPrompt(identity: SessionIdentity, name: string, args: Record<string, string> | undefined, opts?: CallOptions): Promise<PromptResult>;
  /** Serves one agent session over a transport (stdio, Streamable HTTP, in-memory). */
  connect(transport: Transport, identity: SessionIdentity): Promise<Server>;
  /** Resolves once every result event written so far has been handed to the audit sink. */
  flushResults(): Promise<void>;
  /** The upstream of a server name (for tests and admin). */
  upstream(name: string): Upstream | undefined;
  /** Number of open agent sessions. */
  sessionCount(): number;
  close(): Promise<void>;
}

interface UpstreamState {
  upstream: Upstream;
  generation: number;
  entries: CatalogEntry[];
  refreshing: Promise<void> | undefined;
  stale: boolean;
}

/** Builds the gateway; call `start()` before serving sessions. */
export function createGateway(deps: GatewayDeps, opts: GatewayOptions): Gateway {
  const namespaced = opts.namespacing === 'always' || (opts.namespacing !== 'never' && opts.upstreams.length > 1);
  const validator = createArgValidator();
  const sessions = new Set<Server>();
  const states = new Map<string, UpstreamState>();
  const byExposed = new Map<string, CatalogEntry>();
  // Per kind of request, the names a rule counts: all of them when it names no kind at all.
  const limits = (opts.rateLimits ?? []).map((r, i) => {
    const any = !r.tools && !r.resources && !r.prompts;
    const of = (globs: string[] | undefined) => (any || globs ? globMatcher(globs) : () => false);
    return { ...r, i, agent: globMatcher(r.agents), targets: { 'tool.call': of(r.tools), 'resource.read': of(r.resources), 'prompt.get': of(r.prompts) } as Record<LimitedKind, (name: string) => boolean> };
  });
  let version = 0;
  const inflight = new Set<Promise<unknown>>();

  const notifySessions = () => {
    for (const s of sessions) void s.sendToolListChanged().catch(() => {});
  };
  const notifyResources = () => {
    for (const s of sessions) void s.sendResourceListChanged().catch(() => {});
  };
  const notifyPrompts = () => {
    for (const s of sessions) void s.sendPromptListChanged().catch(() => {});
  };

  for (const spec of opts.upstreams) {
    const state: UpstreamState = { upstream: undefined as unknown as Upstream, generation: 0, entries: [], refreshing: undefined, stale: true };
    state.upstream = new Upstream(spec, {
      ...opts.upstream,
      onToolsChanged: () => {
        state.stale = true;
        void ensure(state)
          .then(notifySessions)
          .catch((err) => deps.logger?.warn({ server: spec.name, err: String(err) }, 'refreshing the tool list failed'));
      },
      onResourcesChanged: notifyResources,
      onPromptsChanged: notifyPrompts,
    });
    states.set(spec.name, state);
  }

  const reindex = () => {
    byExposed.clear();
    for (const s of states.values()) for (const e of s.entries) byExposed.set(e.exposed, e);
  };

  /** Re-reads an upstream's tools when it (re)connected or said its list changed, and registers them. */
  const refresh = async (state: UpstreamState) => {
    const { upstream } = state;
    const tools = await upstream.listTools();
    const info = upstream.serverInfo;
    const report = await deps.registry.discover(
      { name: upstream.spec.name, scope: opts.scope, info: { ...(info ? { serverInfo: info } : {}), transport: upstream.spec.url ? 'streamable-http' : 'stdio' } },
      tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema as Record<string, unknown>, annotations: t.annotations as Record<string, unknown> | undefined })),
    );
    if (report.added.length > 0 || report.changed.length > 0) {
      deps.logger?.[report.changed.length > 0 ? 'warn' : 'info']({ server: upstream.spec.name, added: report.added, changed: report.changed }, report.changed.length > 0 ? 'tool definitions changed since they were pinned; blocked until re-approved' : 'new tools registered');
    }
    version++;
    state.entries = tools.map((tool) => {
      const qualified = qualify(upstream.spec.name, tool.name);
      return { exposed: namespaced ? qualified : tool.name, qualified, upstream, tool, version };
    });
    state.generation = upstream.generation;
    state.stale = false;
    reindex();
  };

  const ensure = async (state: UpstreamState): Promise<void> => {
    await state.upstream.client();
    if (!state.stale && state.generation === state.upstream.generation) return;
    state.refreshing ??= refresh(state).finally(() => (state.refreshing = undefined));
    return state.refreshing;
  };

  const ensureAll = async () => {
    await Promise.all(
      [...states.values()].map((s) => ensure(s).catch((err) => deps.logger?.warn({ server: s.upstream.spec.name, err: String(err) }, 'upstream unavailable; its tools are not listed'))),
    );
  };

  const callerOf = (id: SessionIdentity): CallerInfo => ({ ...(id.ip ? { ip: id.ip } : {}), ...(id.userAgent ? { userAgent: id.userAgent } : {}) });
  const baseAction = (id: SessionIdentity): Omit<Action, 'kind'> => ({ scope: id.scope, agent: { id: id.agentId }, ...(id.principal ? { principal: id.principal } : {}) });

  type Target = NonNullable<AuditEvent['target']>;
  type Outcome = { outcome: AuditOutcome; type: string; startedAt: number; upstreamMs?: number; refusal?: RefusalKind; isError?: boolean; result?: unknown };

  /** Writes the result event of one governed request; it points to the decision event. */
  const record = (id: SessionIdentity, target: Target, kind: Action['kind'], decision: Decision, r: Outcome) => {
    const event = newAuditEvent(
      {
        scope: id.scope,
        category: 'tool_call',
        type: r.type,
        severity: r.outcome === 'success' ? 'info' : 'low',
        outcome: r.outcome,
        actor: { type: 'agent', id: id.agentId, authMethod: id.via, ...(id.ip ? { ip: id.ip } : {}), ...(id.userAgent ? { userAgent: id.userAgent } : {}) },
        agent: { id: id.agentId },
        ...(id.principal ? { onBehalfOf: { id: id.principal.id, ...(id.principal.roles ? { roles: id.principal.roles } : {}) } } : {}),
        target,
        action: { kind },
        latencyMs: Math.round((performance.now() - r.startedAt) * 1000) / 1000,
        ...(decision.auditEventId ? { correlationId: decision.auditEventId } : {}),
        details: {
          ...(r.upstreamMs !== undefined ? { upstreamMs: Math.round(r.upstreamMs * 1000) / 1000 } : {}),
          ...(r.refusal ? { refusal: r.refusal } : {}),
          ...(r.isError !== undefined ? { isError: r.isError } : {}),
        },
      },
      deps.clock.now(),
    );
    // The decision event was durable before the call went out; the result event need not delay the
    // answer. It is tracked so `close()` (and `flushResults()`) wait for it. The result's digest (and
    // body, when captured) is what the agent received.
    const write = (r.result === undefined ? Promise.resolve(event) : deps.checkpoint.resultPayload(r.result).then((payload) => ({ ...event, payload })))
      .then((e) => deps.audit.append([e]))
      .catch((err) => deps.logger?.error({ err: String(err), target: target.name ?? target.uri }, 'could not write the result event'))
      .finally(() => inflight.delete(write));
    inflight.add(write);
  };
  const toolTarget = (entry: CatalogEntry, action: Action): Target => ({
    kind: 'tool',
    server: entry.upstream.spec.name,
    name: entry.qualified,
    ...(action.tool?.definitionHash ? { definitionHash: action.tool.definitionHash } : {}),
  });

  const checkLimits = async (id: SessionIdentity, kind: LimitedKind, qualified: string): Promise<string | undefined> => {
    if (!deps.rateLimiter) return undefined;
    for (const l of limits) {
      if (!l.agent(id.agentId) || !l.targets[kind](qualified)) continue;
      const key = l.per === 'agent' ? `${l.i}:${id.agentId}` : `${l.i}:${id.agentId}:${qualified}`;
      const r = await deps.rateLimiter.hit(key, l.limit, l.windowMs);
      if (!r.ok) return `rate limit of ${l.limit} calls per ${l.windowMs} ms exceeded for agent \`${id.agentId}\`${l.per === 'agent' ? '' : ` on \`${qualified}\``}; retry in ${Math.ceil(r.resetMs)} ms`;
    }
    return undefined;
  };

  const serverOf = (name: string) => states.get(name);
  const available = async <T>(state: UpstreamState, what: string, list: (u: Upstream) => Promise<T[]>): Promise<T[]> => {
    try {
      return await list(state.upstream);
    } catch (err) {
      deps.logger?.warn({ server: state.upstream.spec.name, err: messageOf(err) }, `upstream unavailable; its ${what} are not listed`);
      return [];
    }
  };
  /** Lists something from every upstream, each item with its server; an unavailable upstream lists nothing. */
  const fromAll = async <T>(what: string, list: (u: Upstream) => Promise<T[]>): Promise<Array<{ server: string; item: T }>> => {
    const per = await Promise.all([...states.values()].map(async (s) => (await available(s, what, list)).map((item) => ({ server: s.upstream.spec.name, item }))));
    return per.flat();
  };
  /** Keeps the items whose preview decision a listing shows (see `visible`). */
  const previewed = async <T>(id: SessionIdentity, items: T[], actionOf: (item: T) => Action): Promise<T[]> => {
    const verdicts = await Promise.all(items.map((it) => deps.preview.check(actionOf(it), callerOf(id))));
    return items.filter((_, i) => visible(verdicts[i]!.decision));
  };
  /** One audited `resource.list` decision per listing, as `tool.list` is for tools. */
  const mayList = async (id: SessionIdentity, kind: 'resource.list'): Promise<boolean> => {
    const { decision } = await deps.checkpoint.check({ kind, ...baseAction(id) }, callerOf(id));
    return decision.effect === 'allow';
  };

  /** The upstream and its own URI for a URI an agent asked for. */
  const locateResource = async (uri: string): Promise<{ state: UpstreamState; uri: string } | undefined> => {
    if (namespaced) {
      const plus = uri.indexOf('+');
      const state = plus > 0 ? serverOf(uri.slice(0, plus)) : undefined;
      return state ? { state, uri: uri.slice(plus + 1) } : undefined;
    }
    if (states.size === 1) return { state: [...states.values()][0]!, uri };
    // Several upstreams under their own URIs: the one that lists it, else the one whose template matches.
    const listed = (await fromAll('resources', (u) => u.listResources())).find((r) => r.item.uri === uri);
    const hit = listed ?? (await fromAll('resource templates', (u) => u.listResourceTemplates())).find((t) => new UriTemplate(t.item.uriTemplate).match(uri) !== null);
    return hit ? { state: serverOf(hit.server)!, uri } : undefined;
  };
  /** The upstream and its own name for a prompt name an agent asked for. */
  const locatePrompt = async (name: string): Promise<{ state: UpstreamState; name: string } | undefined> => {
    if (namespaced) {
      const dot = name.indexOf('.');
      const state = dot > 0 ? serverOf(name.slice(0, dot)) : undefined;
      return state ? { state, name: name.slice(dot + 1) } : undefined;
    }
    if (states.size === 1) return { state: [...states.values()][0]!, name };
    const hit = (await fromAll('prompts', (u) => u.listPrompts())).find((p) => p.item.name === name);
    return hit ? { state: serverOf(hit.server)!, name } : undefined;
  };

  /** Rewrites the URIs in content blocks (embedded resources, resource links) to the form agents see. */
  const exposeBlock = (server: string, block: Record<string, unknown>): Record<string, unknown> => {
    if (!namespaced) return block;
    if (block.type === 'resource_link' && typeof block.uri === 'string') return { ...block, uri: exposeUri(server, block.uri, true) };
    const res = block.resource as { uri?: unknown } | undefined;
    if (block.type === 'resource' && res && typeof res.uri === 'string') return { ...block, resource: { ...res, uri: exposeUri(server, res.uri, true) } };
    return block;
  };

  /**
   * A governed read or prompt: decide (the decision event is durable before anything is forwarded),
   * forward, inspect, write the result event. Refusals and failures throw `GatewayError`s.
   */
  const governed = async <R extends InspectedResult>(
    id: SessionIdentity,
    input: Action,
    target: Target,
    label: string,
    forward: () => Promise<R>,
  ): Promise<R> => {
    const startedAt = performance.now();
    const kind = input.kind;
    const { decision, action } = await deps.checkpoint.check(input, callerOf(id));
    if (decision.effect !== 'allow') throw deniedError(decision, kind === 'resource.read' ? 'read' : 'prompt');
    const limited = await checkLimits(id, kind as LimitedKind, (target.kind === 'resource' ? target.uri : target.name)!);
    if (limited) {
      record(id, target, kind, decision, { outcome: 'failure', type: `${kind}.rate_limited`, startedAt, refusal: 'rate_limited' });
      throw new GatewayError(RATE_LIMITED, 'rate_limited', limited, decision.auditEventId ? { auditEventId: decision.auditEventId } : {});
    }
    const upstreamStarted = performance.now();
    let result: R;
    try {
      result = await forward();
    } catch (err) {
      const upstreamMs = performance.now() - upstreamStarted;
      record(id, target, kind, decision, { outcome: 'error', type: `${kind}.failed`, startedAt, upstreamMs, refusal: 'upstream_error' });
      const code = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : ErrorCode.InternalError;
      throw new GatewayError(code, 'upstream_error', `the upstream server \`${target.server}\` failed on ${label}: ${messageOf(err).replace(/^MCP error -?\d+: /, '')}`, decision.auditEventId ? { auditEventId: decision.auditEventId } : {});
    }
    const upstreamMs = performance.now() - upstreamStarted;
    if (deps.inspector) {
      const verdict = await deps.inspector.inspect(action, result);
      if (verdict.action === 'block') {
        record(id, target, kind, decision, { outcome: 'denied', type: `${kind}.output_blocked`, startedAt, upstreamMs, refusal: 'output_blocked' });
        throw new GatewayError(POLICY_DENIED, 'output_blocked', `Warden withheld ${label}: ${verdict.message}`, decision.auditEventId ? { auditEventId: decision.auditEventId } : {});
      }
      if (verdict.action === 'replace') result = verdict.result as R;
    }
    record(id, target, kind, decision, { outcome: 'success', type: `${kind}.completed`, startedAt, upstreamMs, result });
    return result;
  };

  const gateway: Gateway = {
    async start() {
      if (states.size === 1) {
        const [only] = states.values();
        await ensure(only!);
      } else {
        await ensureAll();
      }
    },

    async listTools(id) {
      const { decision } = await deps.checkpoint.check({ kind: 'tool.list', ...baseAction(id) }, callerOf(id));
      if (decision.effect !== 'allow') return [];
      await ensureAll();
      const entries = [...byExposed.values()];
      const verdicts = await Promise.all(
        entries.map((e) => deps.preview.check({ kind: 'tool.call', ...baseAction(id), tool: { server: e.upstream.spec.name, name: e.qualified } }, callerOf(id))),
      );
      return entries.filter((_, i) => visible(verdicts[i]!.decision)).map((e) => ({ ...e.tool, name: e.exposed }));
    },

    async callTool(id, name, args, callOpts = {}) {
      const startedAt = performance.now();
      let entry = byExposed.get(name);
      if (!entry || entry.upstream.generation !== states.get(entry.upstream.spec.name)!.generation) {
        // Unknown, or its upstream reconnected since it was listed: re-read before deciding.
        const target = entry ? states.get(entry.upstream.spec.name) : undefined;
        try {
          await (target ? ensure(target) : ensureAll());
        } catch (err) {
          return errorResult('upstream_error', `the upstream server \`${target!.upstream.spec.name}\` is unavailable: ${messageOf(err)}`);
        }
        entry = byExposed.get(name);
      }
      if (!entry) return errorResult('unknown_tool', `no tool named \`${name}\` is served here`);
      const server = entry.upstream.spec.name;
      const input: Action = { kind: 'tool.call', ...baseAction(id), tool: { server, name: entry.qualified }, ...(args ? { args } : {}) };
      const { decision, action } = await deps.checkpoint.check(input, callerOf(id));
      if (decision.effect !== 'allow') return deniedResult(decision);

      const refuse = (kind: RefusalKind, text: string, type: string) => {
        record(id, toolTarget(entry, action), 'tool.call', decision, { outcome: 'failure', type, startedAt, refusal: kind });
        return errorResult(kind, text, decision.auditEventId ? { auditEventId: decision.auditEventId } : {});
      };
      const limited = await checkLimits(id, 'tool.call', entry.qualified);
      if (limited) return refuse('rate_limited', limited, 'tool.call.rate_limited');
      const issues = validator.check(`${entry.qualified}#${entry.version}`, entry.tool.inputSchema as Record<string, unknown>, args);
      if (issues) return refuse('invalid_arguments', `the arguments do not match the input schema of \`${entry.exposed}\`: ${issues.join('; ')}`, 'tool.call.invalid_arguments');

      const upstreamStarted = performance.now();
      let result: ToolResult;
      try {
        result = await entry.upstream.callTool(entry.tool.name, args, { signal: callOpts.signal, onprogress: callOpts.onprogress });
      } catch (err) {
        const upstreamMs = performance.now() - upstreamStarted;
        record(id, toolTarget(entry, action), 'tool.call', decision, { outcome: 'error', type: 'tool.call.failed', startedAt, upstreamMs, refusal: 'upstream_error' });
        return errorResult('upstream_error', `the upstream server \`${server}\` failed during the call to \`${entry.exposed}\`: ${messageOf(err)}`);
      }
      const upstreamMs = performance.now() - upstreamStarted;
      if (deps.inspector) {
        const verdict = await deps.inspector.inspect(action, result);
        if (verdict.action === 'block') {
          record(id, toolTarget(entry, action), 'tool.call', decision, { outcome: 'denied', type: 'tool.call.output_blocked', startedAt, upstreamMs, refusal: 'output_blocked' });
          return errorResult('output_blocked', `Warden withheld the result of \`${entry.exposed}\`: ${verdict.message}`);
        }
        if (verdict.action === 'replace') result = verdict.result as ToolResult;
      }
      if (namespaced && Array.isArray(result.content)) result = { ...result, content: result.content.map((b) => exposeBlock(server, b)) };
      record(id, toolTarget(entry, action), 'tool.call', decision, { outcome: result.isError ? 'failure' : 'success', type: 'tool.call.completed', startedAt, upstreamMs, isError: result.isError === true, result });
      return result;
    },

    async listResources(id) {
      if (!(await mayList(id, 'resource.list'))) return [];
      const all = await fromAll('resources', (u) => u.listResources());
      const shown = await previewed(id, all, ({ server, item }) => ({ kind: 'resource.read', ...baseAction(id), resource: { uri: item.uri, server } }));
      return shown.map(({ server, item }) => ({ ...item, uri: exposeUri(server, item.uri, namespaced) }));
    },

    async listResourceTemplates(id) {
      if (!(await mayList(id, 'resource.list'))) return [];
      const all = await fromAll('resource templates', (u) => u.listResourceTemplates());
      const shown = await previewed(id, all, ({ server, item }) => ({ kind: 'resource.read', ...baseAction(id), resource: { uri: item.uriTemplate, server } }));
      return shown.map(({ server, item }) => ({ ...item, uriTemplate: exposeUri(server, item.uriTemplate, namespaced) }));
    },

    async readResource(id, uri, callOpts = {}) {
      const at = await locateResource(uri);
      if (!at) throw new GatewayError(RESOURCE_NOT_FOUND, 'unknown_resource', `no resource \`${uri}\` is served here`);
      const server = at.state.upstream.spec.name;
      const result = await governed(id, { kind: 'resource.read', ...baseAction(id), resource: { uri: at.uri, server } }, { kind: 'resource', server, uri: at.uri }, `the read of \`${uri}\``, () =>
        at.state.upstream.readResource(at.uri, callOpts),
      );
      if (!namespaced) return result;
      return { ...result, contents: result.contents.map((c) => ({ ...c, uri: exposeUri(server, c.uri, true) })) };
    },

    async listPrompts(id) {
      const all = await fromAll('prompts', (u) => u.listPrompts());
      const shown = await previewed(id, all, ({ server, item }) => ({ kind: 'prompt.get', ...baseAction(id), tool: { server, name: qualify(server, item.name) } }));
      return shown.map(({ server, item }) => ({ ...item, name: namespaced ? qualify(server, item.name) : item.name }));
    },

    async getPrompt(id, name, args, callOpts = {}) {
      const at = await locatePrompt(name);
      if (!at) throw new GatewayError(ErrorCode.InvalidParams, 'unknown_prompt', `no prompt named \`${name}\` is served here`);
      const server = at.state.upstream.spec.name;
      const qualified = qualify(server, at.name);
      const input: Action = { kind: 'prompt.get', ...baseAction(id), tool: { server, name: qualified }, ...(args ? { args } : {}) };
      const result = await governed(id, input, { kind: 'prompt', server, name: qualified }, `the prompt \`${name}\``, () => at.state.upstream.getPrompt(at.name, args, callOpts));
      if (!namespaced) return result;
      return { ...result, messages: result.messages.map((m) => ({ ...m, content: exposeBlock(server, m.content) })) };
    },

    async connect(transport, identity) {
      const server = createSessionServer(gateway, identity);
      sessions.add(server);
      server.onclose = () => sessions.delete(server);
      await server.connect(transport);
      return server;
    },

    async flushResults() {
      while (inflight.size > 0) await Promise.all([...inflight]);
    },

    upstream: (name) => states.get(name)?.upstream,
    sessionCount: () => sessions.size,

    async close() {
      await Promise.all([...sessions].map((s) => s.close().catch(() => {})));
      await Promise.all([...states.values()].map((s) => s.upstream.close()));
      await gateway.flushResults();
    },
  };
  return gateway;
}

/**
 * Whether a listing shows a tool, given the decision for a call to it with no arguments: hidden only
 * when a deny rule matched on its own, not because its condition failed for want of arguments.
 */
export function visible(decision: Decision): boolean {
  if (decision.effect !== 'deny') return true;
  const failed = new Set((decision.errors ?? []).map((e) => `${e.policy}\u0000${e.rule}`));
  return !decision.reasons.some((r) => r.effect === 'deny' && !failed.has(`${r.policy}\u0000${r.rule}`));
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
}
