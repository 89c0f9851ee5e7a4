import type { RegistryPort } from '../checkpoint/ports.js';
import type { Agent, Tool } from '../domain/index.js';

/** A fixed, in-memory registry (from a file or a test); the store-backed one replaces it later. */
export function createStaticRegistry(entries: { tools?: readonly Tool[]; agents?: readonly Agent[] } = {}): RegistryPort {
  const tools = new Map<string, Tool>();
  for (const t of entries.tools ?? []) tools.set(`${t.server}\u0000${t.name}`, Object.freeze({ ...t }));
  const agents = new Map<string, Agent>();
  for (const a of entries.agents ?? []) agents.set(a.id, Object.freeze({ ...a }));
  return {
    findTool: async (server, name) => tools.get(`${server}\u0000${name}`),
    findAgent: async (id) => agents.get(id),
  };
}
