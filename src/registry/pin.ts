import { digestJson } from '../domain/index.js';

/** The part of an MCP tool definition that is pinned: what an agent reads to decide how to use it. */
export interface ToolDefinition {
  name: string;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
}

/**
 * `sha256:<hex>` over the RFC 8785 canonical JSON of `{ name, description, inputSchema }`, so key
 * order and whitespace never change it, and any change of wording or schema does (the "rug pull").
 * @example definitionHash({ name: 'echo', description: 'Echoes', inputSchema: { type: 'object' } })
 */
export function definitionHash(def: ToolDefinition): string {
  return digestJson({ name: def.name, description: def.description ?? null, inputSchema: def.inputSchema });
}
