import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import { qualify, type CatalogEntry } from './catalog.js';
import { messageOf } from './error-message.js';
import { refusal, type Refusal } from './outcome.js';
import { printableName } from './printable-name.js';
import type { GatewayLogger, GatewayRegistry } from './ports.js';
import { Upstream, type UpstreamOptions, type UpstreamSpec } from './upstream.js';

/** One upstream and what the gateway last read from it. */
interface UpstreamState {
  upstream: Upstream;
  /** The upstream's connection generation the entries were read at. */
  generation: number;
  entries: CatalogEntry[];
  refreshing: Promise<void> | undefined;
  stale: boolean;
}

/** Where a request for a resource or prompt goes: the upstream and the name it serves it under. */
export interface Located {
  upstream: Upstream;
  /** The upstream's own URI or prompt name. */
  own: string;
}

/**
 * The upstreams and what they serve: discovery (and re-discovery after a reconnect or a
 * `list_changed`), the tool catalog by exposed name, and where a resource or prompt lives.
 */
export interface UpstreamCatalog {
  /** Whether names are namespaced (`server.tool`, `server+uri`). */
  readonly namespaced: boolean;
  /** Connects every upstream and registers its tools; fails only when the single upstream cannot start. */
  start(): Promise<void>;
  /** Every tool entry, after re-reading each upstream that needs it (an unavailable one lists nothing). */
  tools(): Promise<CatalogEntry[]>;
  /** The entry of a tool by the name agents see, re-read first when unknown or its upstream reconnected. */
  tool(name: string): Promise<CatalogEntry | Refusal>;
  /** Lists something from every upstream, each item with its server; an unavailable upstream lists nothing. */
  fromAll<T>(what: string, list: (u: Upstream) => Promise<T[]>): Promise<Array<{ server: string; item: T }>>;
  /** The upstream and own URI of a URI an agent asked for. */
  locateResource(uri: string): Promise<Located | undefined>;
  /** The upstream and own name of a prompt name an agent asked for. */
  locatePrompt(name: string): Promise<Located | undefined>;
  upstream(name: string): Upstream | undefined;
  /** Every upstream, in the order configured. */
  upstreams(): Upstream[];
  close(): Promise<void>;
}

/** What the catalog tells the sessions: one of its upstreams' lists changed. */
export interface CatalogListeners {
  toolsChanged(): void;
  resourcesChanged(): void;
  promptsChanged(): void;
}

/** Builds the catalog over the upstream specs; nothing connects before `start()` or the first request. */
export function createUpstreamCatalog(
  deps: { registry: Pick<GatewayRegistry, 'discover'>; logger?: GatewayLogger | undefined },
  opts: { upstreams: readonly UpstreamSpec[]; scope: string; namespaced: boolean; upstream?: UpstreamOptions | undefined },
  on: CatalogListeners,
): UpstreamCatalog {
  const { namespaced } = opts;
  const states = new Map<string, UpstreamState>();
  const byExposed = new Map<string, CatalogEntry>();
  let version = 0;

  /** Re-reads an upstream's tools when it (re)connected or said its list changed, and registers them. */
  const refresh = async (state: UpstreamState) => {
    const { upstream } = state;
    const tools = await upstream.listTools();
    const info = upstream.serverInfo;
    const { spec } = upstream;
    const transport = spec.transport ? 'custom' : spec.url ? 'streamable-http' : 'stdio';
    const report = await deps.registry.discover(
      { name: spec.name, scope: opts.scope, info: { ...(info ? { serverInfo: info } : {}), transport } },
      tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema as Record<string, unknown>, annotations: t.annotations as Record<string, unknown> | undefined })),
    );
    if (report.added.length > 0 || report.changed.length > 0) {
      const changed = report.changed.length > 0;
      deps.logger?.[changed ? 'warn' : 'info']({ server: spec.name, added: report.added, changed: report.changed }, changed ? 'tool definitions changed since they were pinned; blocked until re-approved' : 'new tools registered');
    }
    version++;
    state.entries = tools.map((tool) => {
      const qualified = qualify(spec.name, tool.name);
      return { exposed: namespaced ? qualified : tool.name, qualified, upstream, tool, version };
    });
    state.generation = upstream.generation;
    state.stale = false;
    byExposed.clear();
    for (const s of states.values()) for (const e of s.entries) byExposed.set(e.exposed, e);
  };

  const ensure = async (state: UpstreamState): Promise<void> => {
    await state.upstream.client();
    if (!state.stale && state.generation === state.upstream.generation) return;
    state.refreshing ??= refresh(state).finally(() => (state.refreshing = undefined));
    return state.refreshing;
  };

  const ensureAll = async () => {
    await Promise.all(
      [...states.values()].map((s) => ensure(s).catch((err) => deps.logger?.warn({ server: s.upstream.spec.name, err: messageOf(err) }, 'upstream unavailable; its tools are not listed'))),
    );
  };

  for (const spec of opts.upstreams) {
    const upstream = new Upstream(spec, {
      ...opts.upstream,
      onToolsChanged: () => {
        state.stale = true;
        void ensure(state)
          .then(() => on.toolsChanged())
          .catch((err) => deps.logger?.warn({ server: spec.name, err: String(err) }, 'refreshing the tool list failed'));
      },
      onResourcesChanged: () => on.resourcesChanged(),
      onPromptsChanged: () => on.promptsChanged(),
    });
    const state: UpstreamState = { upstream, generation: 0, entries: [], refreshing: undefined, stale: true };
    states.set(spec.name, state);
  }

  const fromAll = async <T>(what: string, list: (u: Upstream) => Promise<T[]>): Promise<Array<{ server: string; item: T }>> => {
    const per = await Promise.all(
      [...states.values()].map(async (s) => {
        try {
          return (await list(s.upstream)).map((item) => ({ server: s.upstream.spec.name, item }));
        } catch (err) {
          deps.logger?.warn({ server: s.upstream.spec.name, err: messageOf(err) }, `upstream unavailable; its ${what} are not listed`);
          return [];
        }
      }),
    );
    return per.flat();
  };

  /** Splits `server<sep>own` when aggregating; the only upstream otherwise, or the one `find` names. */
  const locate = async (name: string, sep: string, find: () => Promise<string | undefined>): Promise<Located | undefined> => {
    if (namespaced) {
      const at = name.indexOf(sep);
      const state = at > 0 ? states.get(name.slice(0, at)) : undefined;
      return state ? { upstream: state.upstream, own: name.slice(at + sep.length) } : undefined;
    }
    if (states.size === 1) return { upstream: [...states.values()][0]!.upstream, own: name };
    const server = await find();
    return server === undefined ? undefined : { upstream: states.get(server)!.upstream, own: name };
  };

  return {
    namespaced,
    async start() {
      if (states.size === 1) await ensure([...states.values()][0]!);
      else await ensureAll();
    },
    async tools() {
      await ensureAll();
      return [...byExposed.values()];
    },
    async tool(name) {
      const known = byExposed.get(name);
      const state = known ? states.get(known.upstream.spec.name)! : undefined;
      // Connected (again, if it went away) and re-read when it reconnected, before deciding: the
      // decision is then made on the definitions the server that will answer actually serves.
      try {
        await (state ? ensure(state) : ensureAll());
      } catch (err) {
        return refusal('upstream_error', `the upstream server \`${state!.upstream.spec.name}\` is unavailable: ${messageOf(err)}`);
      }
      return byExposed.get(name) ?? refusal('unknown_tool', `no tool named \`${printableName(name)}\` is served here`);
    },
    fromAll,
    locateResource: (uri) =>
      // Several upstreams under their own URIs: the one that lists it, else the one whose template matches.
      locate(uri, '+', async () => {
        const listed = (await fromAll('resources', (u) => u.listResources())).find((r) => r.item.uri === uri);
        return (listed ?? (await fromAll('resource templates', (u) => u.listResourceTemplates())).find((t) => new UriTemplate(t.item.uriTemplate).match(uri) !== null))?.server;
      }),
    locatePrompt: (name) => locate(name, '.', async () => (await fromAll('prompts', (u) => u.listPrompts())).find((p) => p.item.name === name)?.server),
    upstream: (name) => states.get(name)?.upstream,
    upstreams: () => [...states.values()].map((s) => s.upstream),
    async close() {
      await Promise.all([...states.values()].map((s) => s.upstream.close()));
    },
  };
}
