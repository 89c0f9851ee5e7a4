import { WardenError } from '../../domain/index.js';
import { holdsAt, type Credential, type Role } from '../../identity/index.js';
import type { AgentRecord, Registry, RegistryStatus, ServerRecord, ToolRecord } from '../../registry/index.js';

/** Roles that read the registry (at the server's scope). */
export const REGISTRY_READERS: readonly Role[] = ['owner', 'admin', 'policy_author', 'approver', 'auditor', 'analyst', 'viewer'];

/** A server the caller may not read is answered like one that does not exist: its name is not confirmed. */
export function registryNotFound(server: string, tool?: string): WardenError {
  return tool === undefined
    ? new WardenError('registry.not_found', `server \`${server}\` is not in the registry`, { help: 'run `warden registry list` to see the registered servers' })
    : new WardenError('registry.not_found', `tool \`${tool}\` on server \`${server}\` is not in the registry`, { help: `run \`warden registry list --server ${server}\`` });
}

/** The registry as one caller may read it: REST's registry routes and GraphQL's registry fields both answer through it. */
export interface RegistryReads {
  servers(c: Credential): Promise<ServerRecord[]>;
  /** @throws WardenError `registry.not_found` also for a server the caller may not read. */
  server(c: Credential, name: string, tool?: string): Promise<ServerRecord>;
  tools(c: Credential, filter: { server?: string | undefined; status?: RegistryStatus | undefined }): Promise<ToolRecord[]>;
  /** @throws WardenError `registry.not_found`. */
  tool(c: Credential, server: string, tool: string): Promise<ToolRecord>;
  /** Agents are not filed under a scope: every reader of the tenant sees them all. */
  agents(c: Credential): Promise<AgentRecord[]>;
}

/** Reads of each caller's tenant's registry, filtered to the servers at scopes where a reader role holds. */
export function registryReads(registry: Pick<Registry, 'forTenant'>): RegistryReads {
  const of = (c: Credential) => registry.forTenant(c.tenantId);
  const reads: RegistryReads = {
    async servers(c) {
      return (await of(c).listServers()).filter((s) => holdsAt(c.grants, REGISTRY_READERS, s.scope));
    },
    async server(c, name, tool) {
      const server = await of(c).getServer(name);
      if (!server || !holdsAt(c.grants, REGISTRY_READERS, server.scope)) throw registryNotFound(name, tool);
      return server;
    },
    async tools(c, filter) {
      const r = of(c);
      const scopes = new Map((await r.listServers()).map((s) => [s.name, s.scope]));
      const tools = await r.listTools({ ...(filter.server ? { server: filter.server } : {}), ...(filter.status ? { status: filter.status } : {}) });
      return tools.filter((t) => scopes.has(t.server) && holdsAt(c.grants, REGISTRY_READERS, scopes.get(t.server)));
    },
    async tool(c, server, tool) {
      await reads.server(c, server, tool);
      const t = await of(c).getTool(server, tool);
      if (!t) throw registryNotFound(server, tool);
      return t;
    },
    async agents(c) {
      return of(c).listAgents();
    },
  };
  return reads;
}
