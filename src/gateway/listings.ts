import type { Prompt as McpPrompt, Resource as McpResource, ResourceTemplate as McpResourceTemplate, Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { Checkpoint } from '../checkpoint/index.js';
import type { Action, Decision } from '../domain/index.js';
import { exposeUri, qualify } from './catalog.js';
import type { SessionIdentity } from './ports.js';
import { baseAction, callerOf } from './session-context.js';
import type { UpstreamCatalog } from './upstream-catalog.js';

/** What a session may see: tools, resources, templates and prompts, each filtered by a preview decision. */
export interface Listings {
  listTools(id: SessionIdentity): Promise<McpTool[]>;
  listResources(id: SessionIdentity): Promise<McpResource[]>;
  listResourceTemplates(id: SessionIdentity): Promise<McpResourceTemplate[]>;
  listPrompts(id: SessionIdentity): Promise<McpPrompt[]>;
}

/**
 * Builds the listings. The list itself is one audited decision (`tool.list`, `resource.list`);
 * each item is previewed through a checkpoint whose sink drops events, so a listing does not cost
 * one audit event per item.
 */
export function createListings(deps: { checkpoint: Pick<Checkpoint, 'check'>; preview: Pick<Checkpoint, 'check'>; catalog: UpstreamCatalog }): Listings {
  const { catalog } = deps;
  const { namespaced } = catalog;
  const mayList = async (id: SessionIdentity, kind: 'tool.list' | 'resource.list'): Promise<boolean> => {
    const { decision } = await deps.checkpoint.check({ kind, ...baseAction(id) }, callerOf(id));
    return decision.effect === 'allow';
  };
  /** Keeps the items whose preview decision a listing shows (see `visible`). */
  const previewed = async <T>(id: SessionIdentity, items: T[], actionOf: (item: T) => Action): Promise<T[]> => {
    const verdicts = await Promise.all(items.map((it) => deps.preview.check(actionOf(it), callerOf(id))));
    return items.filter((_, i) => visible(verdicts[i]!.decision));
  };

  return {
    async listTools(id) {
      if (!(await mayList(id, 'tool.list'))) return [];
      const shown = await previewed(id, await catalog.tools(), (e) => ({ kind: 'tool.call', ...baseAction(id), tool: { server: e.upstream.spec.name, name: e.qualified } }));
      return shown.map((e) => ({ ...e.tool, name: e.exposed }));
    },
    async listResources(id) {
      if (!(await mayList(id, 'resource.list'))) return [];
      const all = await catalog.fromAll('resources', (u) => u.listResources());
      const shown = await previewed(id, all, ({ server, item }) => ({ kind: 'resource.read', ...baseAction(id), resource: { uri: item.uri, server } }));
      return shown.map(({ server, item }) => ({ ...item, uri: exposeUri(server, item.uri, namespaced) }));
    },
    async listResourceTemplates(id) {
      if (!(await mayList(id, 'resource.list'))) return [];
      const all = await catalog.fromAll('resource templates', (u) => u.listResourceTemplates());
      const shown = await previewed(id, all, ({ server, item }) => ({ kind: 'resource.read', ...baseAction(id), resource: { uri: item.uriTemplate, server } }));
      return shown.map(({ server, item }) => ({ ...item, uriTemplate: exposeUri(server, item.uriTemplate, namespaced) }));
    },
    async listPrompts(id) {
      const all = await catalog.fromAll('prompts', (u) => u.listPrompts());
      const shown = await previewed(id, all, ({ server, item }) => ({ kind: 'prompt.get', ...baseAction(id), tool: { server, name: qualify(server, item.name) } }));
      return shown.map(({ server, item }) => ({ ...item, name: namespaced ? qualify(server, item.name) : item.name }));
    },
  };
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
