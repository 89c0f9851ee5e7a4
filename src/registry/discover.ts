import { definitionHash, type ToolDefinition } from './pin.js';
import type { ToolRecord } from './records.js';

/** A tool as a server lists it (the MCP `Tool` fields the registry keeps). */
export interface DiscoveredTool extends ToolDefinition {
  annotations?: Record<string, unknown> | undefined;
}

/** What discovery found about one tool. */
export type DiscoveryChange = 'new' | 'unchanged' | 'changed';

/** Risk guessed from MCP annotations for a tool seen for the first time; an owner can change it. */
export function riskFromAnnotations(annotations: Record<string, unknown> | undefined): ToolRecord['risk'] {
  if (annotations?.destructiveHint === true) return 'high';
  if (annotations?.readOnlyHint === true) return 'low';
  return 'medium';
}

/**
 * Compares a listed tool with its registry entry. A new tool is pinned on first sight as `pending`;
 * a tool whose definition hash differs from the pin is `blocked` until someone re-approves it.
 * Pure: the caller persists the record and audits the change.
 */
export function reconcileTool(server: string, existing: ToolRecord | undefined, seen: DiscoveredTool, now: string): { record: ToolRecord; change: DiscoveryChange } {
  const hash = definitionHash(seen);
  const observed = { description: seen.description, inputSchema: seen.inputSchema, annotations: seen.annotations ?? {}, observedHash: hash, lastSeen: now };
  if (!existing) {
    return {
      change: 'new',
      record: { server, name: seen.name, capabilities: [], risk: riskFromAnnotations(seen.annotations), status: 'pending', pinnedHash: hash, firstSeen: now, ...observed },
    };
  }
  if (existing.pinnedHash === hash) return { change: 'unchanged', record: { ...existing, ...observed } };
  // Imported from a registry file, never seen: the first definition is pinned under the file's status and facts.
  if (existing.pinnedHash === '') return { change: 'new', record: { ...existing, ...observed, pinnedHash: hash } };
  // INVARIANT: the pin moves only on approval, so a definition that changes back is unblocked only by a person.
  const alreadyBlocked = existing.status === 'blocked' && existing.observedHash === hash;
  return {
    change: alreadyBlocked ? 'unchanged' : 'changed',
    record: { ...existing, ...observed, status: 'blocked', statusReason: alreadyBlocked ? existing.statusReason : 'definition changed since it was pinned' },
  };
}
