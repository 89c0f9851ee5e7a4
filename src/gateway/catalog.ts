import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { Upstream } from './upstream.js';

/** One tool as the gateway serves it. */
export interface CatalogEntry {
  /** The name agents see: the server's own in drop-in mode, `server.tool` when aggregating. */
  exposed: string;
  /** `server.tool`: what policies, the registry and the audit log call it. */
  qualified: string;
  upstream: Upstream;
  /** The definition as the upstream last listed it. */
  tool: McpTool;
  /** Changes whenever the upstream's list is re-read; keys compiled argument validators. */
  version: number;
}

/** How tool names are exposed: own names for one upstream (drop-in), `server.tool` otherwise. */
export type Namespacing = 'auto' | 'always' | 'never';

/** The qualified name of a server's tool. */
export function qualify(server: string, tool: string): string {
  return `${server}.${tool}`;
}

/**
 * The URI agents see for a server's resource: its own in drop-in mode, `server+uri` when aggregating
 * (`everything+demo://resource/1`), so two servers may serve the same URI. Server names hold no `+`.
 */
export function exposeUri(server: string, uri: string, namespaced: boolean): string {
  return namespaced ? `${server}+${uri}` : uri;
}

/** Rewrites the URIs in a content block (embedded resource, resource link) to the form agents see. */
export function exposeBlock(server: string, block: Record<string, unknown>, namespaced: boolean): Record<string, unknown> {
  if (!namespaced) return block;
  if (block.type === 'resource_link' && typeof block.uri === 'string') return { ...block, uri: exposeUri(server, block.uri, true) };
  const res = block.resource as { uri?: unknown } | undefined;
  if (block.type === 'resource' && res && typeof res.uri === 'string') return { ...block, resource: { ...res, uri: exposeUri(server, res.uri, true) } };
  return block;
}
