import type { RegistryPort } from '../checkpoint/ports.js';
import { WardenError, newAuditEvent, type Agent, type AuditEventType, type AuditSink, type Clock, type AuditEvent, type Finding, type Tool } from '../domain/index.js';
import { reconcileTool, type DiscoveredTool, type DiscoveryChange } from './discover.js';
import type { AgentRecord, RegistryRepo, RegistryStatus, ServerRecord, ToolRecord } from './records.js';

/** What one discovery pass did to a server's tools. */
export interface DiscoveryReport {
  server: string;
  added: string[];
  changed: string[];
  unchanged: string[];
  /** Effective status of every listed tool after the pass (a blocked server blocks all of them). */
  status: Record<string, RegistryStatus>;
}

/** Attributes an owner sets when approving (or later re-approving) a tool. */
export interface ToolFacts {
  owner?: string | undefined;
  risk?: ToolRecord['risk'];
  capabilities?: string[] | undefined;
  classification?: string | undefined;
}

/** The registry service: the checkpoint's `RegistryPort`, discovery, and the admin operations. */
export interface Registry extends RegistryPort {
  /** Records what a server lists on connect: new tools become pending, changed ones blocked (and audited). */
  discover(server: { name: string; scope: string; info?: Record<string, unknown> }, tools: readonly DiscoveredTool[]): Promise<DiscoveryReport>;
  listServers(): Promise<ServerRecord[]>;
  listTools(filter?: { server?: string; status?: RegistryStatus }): Promise<ToolRecord[]>;
  listAgents(): Promise<AgentRecord[]>;
  getServer(name: string): Promise<ServerRecord | undefined>;
  getTool(server: string, name: string): Promise<ToolRecord | undefined>;
  getAgent(id: string): Promise<AgentRecord | undefined>;
  /**
   * Approves a server, or one of its tools, pinning the tool's current definition.
   * @throws WardenError `registry.not_found` when the server or tool is not in the registry.
   */
  approve(server: string, tool?: string, facts?: ToolFacts, by?: Actor): Promise<void>;
  /**
   * Blocks a server (and so every tool on it) or one tool.
   * @throws WardenError `registry.not_found` when the server or tool is not in the registry.
   */
  block(server: string, tool?: string, reason?: string, by?: Actor): Promise<void>;
  /** Suspends or reactivates an agent; unknown agents are registered (so an agent can be suspended before it first connects). */
  setAgentStatus(id: string, status: AgentRecord['status'], by?: Actor): Promise<void>;
  /** The same service over another tenant's rows (built once per tenant, with its own cache). */
  forTenant(tenantId: string): Registry;
}

/** Who made an administrative change: the credential's actor (see src/identity `actorOf`). */
export type Actor = AuditEvent['actor'];

/** What the registry service depends on. */
export interface RegistryDeps {
  repo: RegistryRepo;
  /** The tenant whose rows `repo` holds; its events go to that tenant's chain. @default 'default' */
  tenantId?: string;
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
  /**
   * How long a lookup is served from memory, measured on `clock`. Changes made through this service
   * take effect at once; changes made by another process (the CLI, another replica) within this time.
   * @default 500
   */
  cacheMs?: number;
  /**
   * Scans a tool's definition (name, description, input schema) for hidden instructions; run on
   * every new or changed definition. A finding at or above `poisonThreshold` blocks the tool.
   */
  scanDefinition?: (tool: { name: string; description?: string | undefined; inputSchema?: unknown }) => Finding[];
  /** @default 0.5 */
  poisonThreshold?: number;
}

/** How often a discovery write is retried when another process changed the row in between. */
const CAS_ATTEMPTS = 3;

/** Builds the store-backed registry over its repo. */
export function createRegistry(deps: RegistryDeps): Registry {
  const ttl = deps.cacheMs ?? 500;
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();
  const cached = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    const now = deps.clock.now().getTime();
    const hit = cache.get(key);
    // A clock that went back (an NTP step, a test) reloads rather than serving an entry from the future.
    if (hit && now >= hit.at && now - hit.at < ttl) return hit.value as Promise<T>;
    const value = load();
    cache.set(key, { at: now, value });
    value.catch(() => cache.delete(key));
    return value;
  };
  const now = () => deps.clock.now().toISOString();

  type Target = { kind: 'server' | 'tool' | 'agent'; server?: string; name?: string };
  const tenant = deps.tenantId !== undefined ? { tenantId: deps.tenantId } : {};
  const siblings = new Map<string, Registry>();
  const audit = async (type: AuditEventType, scope: string, target: Target, details: Record<string, unknown>, by?: Actor, severity: AuditEvent['severity'] = 'low') => {
    const event = newAuditEvent(
      { ...tenant, scope, category: 'admin', type, severity, outcome: 'success', actor: by ?? { type: 'system', id: 'warden-registry' }, target, details },
      deps.clock.now(),
    );
    await deps.audit.append([event]);
  };

  const requireServer = async (name: string): Promise<ServerRecord> => {
    const server = await deps.repo.getServer(name);
    if (!server) throw new WardenError('registry.not_found', `server \`${name}\` is not in the registry`, { help: 'run `warden registry list` to see the registered servers' });
    return server;
  };
  const requireTool = async (server: string, name: string): Promise<ToolRecord> => {
    const tool = await deps.repo.getTool(server, name);
    if (!tool) throw new WardenError('registry.not_found', `tool \`${name}\` on server \`${server}\` is not in the registry`, { help: `run \`warden registry list --server ${server}\`` });
    return tool;
  };

  const service: Registry = {
    findTool(server, name) {
      return cached(`t\u0000${server}\u0000${name}`, async (): Promise<Tool | undefined> => {
        const own = name.startsWith(`${server}.`) ? name.slice(server.length + 1) : name;
        const [s, t] = await Promise.all([deps.repo.getServer(server), deps.repo.getTool(server, own)]);
        if (!t) return s?.status === 'blocked' ? { server, name, status: 'blocked' } : undefined;
        return toolView(t, name, s);
      });
    },
    findAgent(id) {
      return cached(`a\u0000${id}`, async (): Promise<Agent | undefined> => {
        const a = await deps.repo.getAgent(id);
        return a ? { id: a.id, status: a.status, ...(a.kind ? { kind: a.kind } : {}), ...(a.owner ? { owner: a.owner } : {}) } : undefined;
      });
    },

    async discover(server, tools) {
      const time = now();
      // Compare-and-swap writes: a block another process (the CLI, another replica) wrote between a read
      // here and the write is never overwritten; the row is read again and reconciled against it.
      let existing = await deps.repo.getServer(server.name);
      let record: ServerRecord;
      for (let attempt = 0; ; attempt++) {
        record = existing
          ? { ...existing, info: { ...existing.info, ...(server.info ?? {}) }, lastSeen: time }
          : { name: server.name, scope: server.scope, status: 'pending', info: server.info ?? {}, firstSeen: time, lastSeen: time };
        if (await deps.repo.putServer(record, existing ? { unchangedFrom: existing } : { ifAbsent: true })) break;
        if (attempt >= CAS_ATTEMPTS) throw new WardenError('store.unavailable', `server \`${server.name}\` kept changing while it was being registered; retry`);
        existing = await deps.repo.getServer(server.name);
      }
      if (!existing) await audit('registry.server.discovered', server.scope, { kind: 'server', name: server.name }, { info: record.info });
      const report: DiscoveryReport = { server: server.name, added: [], changed: [], unchanged: [], status: {} };
      const lists: Record<DiscoveryChange, string[]> = { new: report.added, changed: report.changed, unchanged: report.unchanged };
      for (const seen of tools) {
        let before = await deps.repo.getTool(server.name, seen.name);
        let tool: ToolRecord;
        let change: DiscoveryChange;
        let poison: Finding[];
        for (let attempt = 0; ; attempt++) {
          const reconciled = reconcileTool(server.name, before, seen, time);
          tool = reconciled.record;
          change = reconciled.change;
          // Poisoned definitions are blocked at discovery, before any agent can see or call them.
          poison = change === 'unchanged' || !deps.scanDefinition ? [] : deps.scanDefinition(seen).filter((f) => f.category === 'tool_poisoning' && f.score >= (deps.poisonThreshold ?? 0.5));
          if (poison.length > 0) tool = { ...tool, status: 'blocked', statusReason: `the definition carries hidden instructions (${[...new Set(poison.map((f) => f.type))].join(', ')})` };
          if (await deps.repo.putTool(tool, before ? { unchangedFrom: before } : { ifAbsent: true })) break;
          if (attempt >= CAS_ATTEMPTS) throw new WardenError('store.unavailable', `tool \`${seen.name}\` on \`${server.name}\` kept changing while it was being registered; retry`);
          before = await deps.repo.getTool(server.name, seen.name);
        }
        lists[change].push(seen.name);
        report.status[seen.name] = record.status === 'blocked' ? 'blocked' : tool.status;
        if (poison.length > 0) {
          const event = newAuditEvent(
            {
              ...tenant,
              scope: server.scope,
              category: 'detection',
              type: 'registry.tool.poisoned',
              severity: 'high',
              outcome: 'success',
              actor: { type: 'system', id: 'warden-registry' },
              target: { kind: 'tool', server: server.name, name: `${server.name}.${seen.name}`, definitionHash: tool.observedHash },
              findings: poison,
              details: { status: 'blocked', change },
            },
            deps.clock.now(),
          );
          await deps.audit.append([event]);
        }
        if (change === 'new') {
          await audit('registry.tool.discovered', server.scope, { kind: 'tool', server: server.name, name: `${server.name}.${seen.name}` }, { hash: tool.pinnedHash, status: tool.status });
        } else if (change === 'changed') {
          await audit('registry.tool.definition_changed', server.scope, { kind: 'tool', server: server.name, name: `${server.name}.${seen.name}` }, {
            pinnedHash: tool.pinnedHash,
            observedHash: tool.observedHash,
            previousStatus: before?.status,
            status: 'blocked',
            description: seen.description,
          }, undefined, 'high');
        }
      }
      cache.clear();
      return report;
    },

    forTenant(tenantId) {
      if (tenantId === (deps.tenantId ?? 'default')) return service;
      let sibling = siblings.get(tenantId);
      if (!sibling) {
        if (!deps.repo.forTenant) throw new WardenError('internal', 'this registry repository holds one tenant only');
        sibling = createRegistry({ ...deps, repo: deps.repo.forTenant(tenantId), tenantId });
        siblings.set(tenantId, sibling);
      }
      return sibling;
    },

    listServers: () => deps.repo.listServers(),
    listTools: (filter) => deps.repo.listTools(filter),
    listAgents: () => deps.repo.listAgents(),
    getServer: (name) => deps.repo.getServer(name),
    getTool: (server, name) => deps.repo.getTool(server, name),
    getAgent: (id) => deps.repo.getAgent(id),

    async approve(serverName, toolName, facts = {}, by) {
      const server = await requireServer(serverName);
      if (toolName === undefined) {
        await deps.repo.putServer({ ...server, status: 'approved', statusReason: undefined, ...(facts.owner ? { owner: facts.owner } : {}) });
        await audit('registry.server.approved', server.scope, { kind: 'server', name: serverName }, { previousStatus: server.status }, by);
      } else {
        const tool = await requireTool(serverName, toolName);
        const next: ToolRecord = {
          ...tool,
          status: 'approved',
          statusReason: undefined,
          pinnedHash: tool.observedHash,
          ...(facts.owner !== undefined ? { owner: facts.owner } : {}),
          ...(facts.risk !== undefined ? { risk: facts.risk } : {}),
          ...(facts.capabilities !== undefined ? { capabilities: facts.capabilities } : {}),
          ...(facts.classification !== undefined ? { classification: facts.classification } : {}),
        };
        await deps.repo.putTool(next);
        await audit('registry.tool.approved', server.scope, { kind: 'tool', server: serverName, name: `${serverName}.${toolName}` }, {
          previousStatus: tool.status,
          pinnedHash: next.pinnedHash,
          ...(tool.pinnedHash !== next.pinnedHash ? { previousPinnedHash: tool.pinnedHash } : {}),
        }, by);
      }
      cache.clear();
    },

    async block(serverName, toolName, reason, by) {
      const server = await requireServer(serverName);
      const why = reason ?? 'blocked by an administrator';
      if (toolName === undefined) {
        await deps.repo.putServer({ ...server, status: 'blocked', statusReason: why });
        await audit('registry.server.blocked', server.scope, { kind: 'server', name: serverName }, { previousStatus: server.status, reason: why }, by, 'medium');
      } else {
        const tool = await requireTool(serverName, toolName);
        await deps.repo.putTool({ ...tool, status: 'blocked', statusReason: why });
        await audit('registry.tool.blocked', server.scope, { kind: 'tool', server: serverName, name: `${serverName}.${toolName}` }, { previousStatus: tool.status, reason: why }, by, 'medium');
      }
      cache.clear();
    },

    async setAgentStatus(id, status, by) {
      const before = await deps.repo.getAgent(id);
      await deps.repo.putAgent({ ...(before ?? { id }), status, updatedAt: now() });
      await audit(status === 'suspended' ? 'registry.agent.suspended' : 'registry.agent.resumed', deps.tenantId ?? 'default', { kind: 'agent', name: id }, { previousStatus: before?.status ?? null }, by, 'medium');
      cache.clear();
    },
  };
  return service;
}

/** The checkpoint's view of a tool: policies see its qualified name and the server's block. */
function toolView(t: ToolRecord, qualified: string, server: ServerRecord | undefined): Tool {
  const status = server?.status === 'blocked' ? 'blocked' : t.status;
  return {
    server: t.server,
    name: qualified,
    status,
    ...(t.pinnedHash ? { definitionHash: t.pinnedHash } : {}),
    capabilities: t.capabilities,
    ...(t.risk ? { risk: t.risk } : {}),
    ...(t.classification ? { classification: t.classification } : {}),
    attributes: { annotations: t.annotations, ...(t.owner ? { owner: t.owner } : {}), ...(server?.owner ? { serverOwner: server.owner } : {}) },
  };
}
