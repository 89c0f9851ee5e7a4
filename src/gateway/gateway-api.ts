import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Prompt as McpPrompt, Resource as McpResource, ResourceTemplate as McpResourceTemplate, Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { PromptResult, ResourceResult, SessionIdentity, ToolResult } from './ports.js';
import type { ForwardOptions, Upstream } from './upstream.js';

/**
 * Options of one forwarded call: the agent's cancellation, a relay for the upstream's progress, and,
 * when the agent's client supports MCP elicitation, a way to ask its user to confirm a call
 * (`unanswered`: dismissed, cancelled, failed or timed out, which is no answer at all).
 */
export type CallOptions = ForwardOptions & { confirm?: ((message: string) => Promise<ConfirmAnswer>) | undefined };

/** What the user answered a confirmation prompt. */
export type ConfirmAnswer = 'accept' | 'decline' | 'unanswered';

/**
 * The MCP proxy: discovery, filtered listings and checked calls over one or more upstreams.
 * `createGateway` builds it; the session server (session.ts) consumes it.
 */
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
  /**
   * Each upstream and whether it answers: a lost connection is re-made here (within `timeoutMs`), so a
   * readiness probe does not keep a gateway out of service waiting for a request that never comes.
   */
  upstreamStatus(timeoutMs?: number): Promise<Array<{ server: string; connected: boolean; error?: string }>>;
  /** Number of open agent sessions. */
  sessionCount(): number;
  close(): Promise<void>;
}
