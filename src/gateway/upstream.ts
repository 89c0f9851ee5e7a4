import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolResultSchema, ToolListChangedNotificationSchema, type Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolResult } from './ports.js';

/** How to reach one upstream MCP server: a command to spawn (stdio) or a Streamable HTTP URL. */
export interface UpstreamSpec {
  /** The server's name in the registry and in namespaced tool names (`name.tool`). */
  name: string;
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
  /** Longest a single call may take without progress. @default 60000 */
  requestTimeoutMs?: number;
  /** Called when the server says its tool list changed. */
  onToolsChanged?: () => void;
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

  /** The spawned server's process id, while connected over stdio. */
  get pid(): number | undefined {
    return this.#transport instanceof StdioClientTransport ? (this.#transport.pid ?? undefined) : undefined;
  }

  /** What the server reported at initialize. */
  get serverInfo(): { name: string; version: string } | undefined {
    return this.#client?.getServerVersion();
  }

  /** The connected client, connecting (again) first when needed. */
  async client(): Promise<Client> {
    if (this.#closed) throw new Error(`upstream \`${this.spec.name}\` is closed`);
    if (this.#client) return this.#client;
    this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(): Promise<Client> {
    const transport = this.#transport_();
    const client = new Client({ name: 'warden-gateway', version: '0.1.0' }, { capabilities: {} });
    client.onclose = () => {
      if (this.#client === client) this.#client = undefined;
    };
    client.onerror = () => {};
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.#opts.onToolsChanged?.());
    await client.connect(transport);
    this.#transport = transport;
    this.#client = client;
    this.#generation++;
    return client;
  }

  #transport_(): Transport {
    const { spec } = this;
    if (spec.url) return new StreamableHTTPClientTransport(new URL(spec.url), spec.headers ? { requestInit: { headers: spec.headers } } : undefined);
    if (!spec.command) throw new Error(`upstream \`${spec.name}\` has neither a command nor a url`);
    return new StdioClientTransport({
      command: spec.command,
      args: spec.args ?? [],
      ...(spec.env ? { env: { ...(process.env as Record<string, string>), ...spec.env } } : {}),
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
  async callTool(name: string, args: Record<string, unknown> | undefined, opts: { signal?: AbortSignal; onprogress?: (p: { progress: number; total?: number; message?: string }) => void } = {}): Promise<ToolResult> {
    const client = await this.client();
    const result = await client.request({ method: 'tools/call', params: { name, ...(args ? { arguments: args } : {}) } }, CallToolResultSchema, {
      timeout: this.#opts.requestTimeoutMs ?? 60_000,
      resetTimeoutOnProgress: true,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onprogress ? { onprogress: opts.onprogress } : {}),
    });
    return result as ToolResult;
  }

  /** Closes the connection (and the spawned process); no reconnect afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => {});
  }
}
