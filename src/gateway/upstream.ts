import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolResultSchema,
  GetPromptResultSchema,
  PromptListChangedNotificationSchema,
  ReadResourceResultSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
  type Prompt as McpPrompt,
  type Resource as McpResource,
  type ResourceTemplate as McpResourceTemplate,
  type ServerCapabilities,
  type Tool as McpTool,
} from '@modelcontextprotocol/sdk/types.js';
import { WardenError } from '../domain/index.js';
import type { PromptResult, ResourceResult, ToolResult } from './ports.js';

/** Options of one forwarded request. */
export interface ForwardOptions {
  signal?: AbortSignal | undefined;
  onprogress?: ((p: { progress: number; total?: number; message?: string }) => void) | undefined;
  /**
   * The connection generation the request was decided against; when the upstream has reconnected
   * since (a restarted server may serve other definitions), the request is not sent.
   */
  generation?: number | undefined;
  /** W3C trace context for the upstream, sent as `_meta.traceparent` (MCP carries trace context in `_meta`). */
  traceparent?: string | undefined;
}

/** The request `_meta` that carries trace context upstream. */
function metaOf(opts: ForwardOptions): { _meta?: { traceparent: string } } {
  return opts.traceparent ? { _meta: { traceparent: opts.traceparent } } : {};
}

/**
 * Opens a fresh transport to an upstream server; called on every (re)connect, so each call must
 * return a transport that has not been started.
 */
export type TransportFactory = () => Transport;

/**
 * How to reach one upstream MCP server: a command to spawn (stdio), a Streamable HTTP URL, or a
 * transport factory (in-memory servers in tests, embedders with their own transport).
 */
export interface UpstreamSpec {
  /** The server's name in the registry and in namespaced tool names (`name.tool`). */
  name: string;
  /** Opens the connection; takes precedence over `url` and `command`. */
  transport?: TransportFactory | undefined;
  command?: string | undefined;
  args?: string[] | undefined;
  env?: Record<string, string> | undefined;
  cwd?: string | undefined;
  url?: string | undefined;
  headers?: Record<string, string> | undefined;
}

/** Options of one upstream connection. */
export interface UpstreamOptions {
  /** Where a spawned server's stderr goes. @default 'inherit' */
  stderr?: 'inherit' | 'ignore' | 'pipe';
  /**
   * The environment a spawned server starts from; its spec's `env` is laid over it. The composition
   * root passes it (the gateway reads no environment itself).
   * @default the SDK's `getDefaultEnvironment()` (HOME, LOGNAME, PATH, SHELL, TERM, USER)
   */
  baseEnv?: Readonly<Record<string, string | undefined>> | undefined;
  /** Longest a single call may take without progress. @default 60000 */
  requestTimeoutMs?: number;
  /** Called when the server says its tool list changed. */
  onToolsChanged?: () => void;
  /** Called when the server says its resource list changed. */
  onResourcesChanged?: () => void;
  /** Called when the server says its prompt list changed. */
  onPromptsChanged?: () => void;
}

/**
 * One upstream server behind an SDK `Client`. Connects lazily and again after the server exits,
 * so one crash costs the calls in flight, not the gateway. `generation` counts connections, so
 * the gateway can re-discover tools after a restart (a restarted server may serve new definitions).
 */
export class Upstream {
  readonly spec: UpstreamSpec;
  readonly #opts: UpstreamOptions;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #transport: Transport | undefined;
  #generation = 0;
  #closed = false;

  constructor(spec: UpstreamSpec, opts: UpstreamOptions = {}) {
    this.spec = spec;
    this.#opts = opts;
  }

  /** How many times this upstream has connected; changes after every reconnect. */
  get generation(): number {
    return this.#generation;
  }

  /** Whether a connection is up now (a lost one is re-made by the next request). */
  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** The spawned server's process id, while connected over stdio. */
  get pid(): number | undefined {
    return this.#transport instanceof StdioClientTransport ? (this.#transport.pid ?? undefined) : undefined;
  }

  /** What the server said it supports at initialize (connect first). */
  get capabilities(): ServerCapabilities | undefined {
    return this.#client?.getServerCapabilities();
  }

  /** What the server reported at initialize. */
  get serverInfo(): { name: string; version: string } | undefined {
    return this.#client?.getServerVersion();
  }

  /** The connected client, connecting (again) first when needed. */
  async client(): Promise<Client> {
    if (this.#closed) throw new WardenError('gateway.upstream_closed', `upstream \`${this.spec.name}\` is closed`);
    if (this.#client) return this.#client;
    this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(): Promise<Client> {
    const transport = this.#openTransport();
    const client = new Client({ name: 'warden-gateway', version: '0.1.0' }, { capabilities: {} });
    client.onclose = () => {
      if (this.#client === client) this.#client = undefined;
    };
    client.onerror = () => {};
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.#opts.onToolsChanged?.());
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => this.#opts.onResourcesChanged?.());
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => this.#opts.onPromptsChanged?.());
    await client.connect(transport);
    this.#transport = transport;
    this.#client = client;
    this.#generation++;
    return client;
  }

  #openTransport(): Transport {
    const { spec } = this;
    if (spec.transport) return spec.transport();
    if (spec.url) return new StreamableHTTPClientTransport(new URL(spec.url), spec.headers ? { requestInit: { headers: spec.headers } } : undefined);
    if (!spec.command) throw new WardenError('config.invalid', `upstream \`${spec.name}\` has neither a command, a url nor a transport`);
    const env = childEnv(this.#opts.baseEnv, spec.env);
    return new StdioClientTransport({
      command: spec.command,
      args: spec.args ?? [],
      ...(env ? { env } : {}),
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      stderr: this.#opts.stderr ?? 'inherit',
    });
  }

  /** Every tool the server lists, following pagination. */
  async listTools(): Promise<McpTool[]> {
    const client = await this.client();
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  /** Calls a tool; progress from the server resets the timeout and is handed to `onprogress`. */
  async callTool(name: string, args: Record<string, unknown> | undefined, opts: ForwardOptions = {}): Promise<ToolResult> {
    const client = await this.client();
    if (opts.generation !== undefined && opts.generation !== this.#generation) {
      throw new WardenError('gateway.upstream_restarted', `the server restarted after the call was decided, so it was not sent; call \`${name}\` again`);
    }
    const result = await client.request({ method: 'tools/call', params: { name, ...(args ? { arguments: args } : {}), ...metaOf(opts) } }, CallToolResultSchema, this.#requestOptions(opts));
    return result as ToolResult;
  }

  /** Every resource the server lists (none when it does not serve resources), following pagination. */
  async listResources(): Promise<McpResource[]> {
    const client = await this.client();
    if (!client.getServerCapabilities()?.resources) return [];
    return paginate(async (cursor) => {
      const page = await client.listResources(cursor ? { cursor } : {});
      return [page.resources, page.nextCursor];
    });
  }

  /** Every resource template the server lists, following pagination. */
  async listResourceTemplates(): Promise<McpResourceTemplate[]> {
    const client = await this.client();
    if (!client.getServerCapabilities()?.resources) return [];
    return paginate(async (cursor) => {
      const page = await client.listResourceTemplates(cursor ? { cursor } : {});
      return [page.resourceTemplates, page.nextCursor];
    });
  }

  /** Every prompt the server lists (none when it does not serve prompts), following pagination. */
  async listPrompts(): Promise<McpPrompt[]> {
    const client = await this.client();
    if (!client.getServerCapabilities()?.prompts) return [];
    return paginate(async (cursor) => {
      const page = await client.listPrompts(cursor ? { cursor } : {});
      return [page.prompts, page.nextCursor];
    });
  }

  /** Reads one resource by the server's own URI. */
  async readResource(uri: string, opts: ForwardOptions = {}): Promise<ResourceResult> {
    const client = await this.client();
    return (await client.request({ method: 'resources/read', params: { uri, ...metaOf(opts) } }, ReadResourceResultSchema, this.#requestOptions(opts))) as ResourceResult;
  }

  /** Gets one prompt by the server's own name. */
  async getPrompt(name: string, args: Record<string, string> | undefined, opts: ForwardOptions = {}): Promise<PromptResult> {
    const client = await this.client();
    return (await client.request({ method: 'prompts/get', params: { name, ...(args ? { arguments: args } : {}), ...metaOf(opts) } }, GetPromptResultSchema, this.#requestOptions(opts))) as PromptResult;
  }

  #requestOptions(opts: ForwardOptions) {
    return {
      timeout: this.#opts.requestTimeoutMs ?? 60_000,
      resetTimeoutOnProgress: true,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onprogress ? { onprogress: opts.onprogress } : {}),
    };
  }

  /** Closes the connection (and the spawned process); no reconnect afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => {});
  }
}

/**
 * The environment handed to the SDK for a spawned server: the base laid under the spec's own.
 * The SDK merges its safe default set (PATH, HOME …) under whatever it is given, so a child always
 * finds its executables; undefined leaves that default alone.
 */
export function childEnv(base: UpstreamOptions['baseEnv'], own: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!base && !own) return undefined;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base ?? {})) if (v !== undefined) env[k] = v;
  return { ...env, ...own };
}

async function paginate<T>(page: (cursor: string | undefined) => Promise<[T[], string | undefined]>): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const [items, next] = await page(cursor);
    all.push(...items);
    cursor = next;
  } while (cursor);
  return all;
}
