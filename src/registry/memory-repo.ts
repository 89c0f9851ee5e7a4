import { WardenError } from '../domain/index.js';
import type { AgentRecord, RegistryRepo, ServerRecord, ToolRecord } from './records.js';

/** A `RegistryRepo` in memory, for tests and for runs without a database. */
export function createMemoryRegistryRepo(): RegistryRepo {
  const servers = new Map<string, ServerRecord>();
  const tools = new Map<string, ToolRecord>();
  const agents = new Map<string, AgentRecord>();
  const key = (server: string, name: string) => `${server}\u0000${name}`;
  const copy = <T>(v: T): T => structuredClone(v);
  return {
    getServer: async (name) => (servers.has(name) ? copy(servers.get(name)) : undefined),
    listServers: async () => [...servers.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(copy),
    putServer: async (s, opts = {}) => {
      if (opts.ifAbsent && servers.has(s.name)) return false;
      const was = servers.get(s.name);
      if (opts.unchangedFrom && was && was.status !== opts.unchangedFrom.status) return false;
      servers.set(s.name, copy(s));
      return true;
    },
    getTool: async (server, name) => (tools.has(key(server, name)) ? copy(tools.get(key(server, name))) : undefined),
    listTools: async (filter = {}) =>
      [...tools.values()]
        .filter((t) => (filter.server === undefined || t.server === filter.server) && (filter.status === undefined || t.status === filter.status))
        .sort((a, b) => (key(a.server, a.name) < key(b.server, b.name) ? -1 : 1))
        .map(copy),
    putTool: async (t, opts = {}) => {
      if (!servers.has(t.server)) throw new WardenError('registry.not_found', `server \`${t.server}\` is not in the registry`);
      if (opts.ifAbsent && tools.has(key(t.server, t.name))) return false;
      const was = tools.get(key(t.server, t.name));
      const u = opts.unchangedFrom;
      if (u && was && (was.status !== u.status || was.pinnedHash !== (u.pinnedHash ?? '') || was.observedHash !== (u.observedHash ?? ''))) return false;
      tools.set(key(t.server, t.name), copy(t));
      return true;
    },
    getAgent: async (id) => (agents.has(id) ? copy(agents.get(id)) : undefined),
    listAgents: async () => [...agents.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(copy),
    putAgent: async (a, opts = {}) => {
      if (opts.ifAbsent && agents.has(a.id)) return false;
      agents.set(a.id, copy(a));
      return true;
    },
  };
}
