import { newAuditEvent, type AuditEventType, type AuditSink, type Clock, type Tool } from '../domain/index.js';
import type { RegistryDoc } from './registry-file.js';
import type { AgentRecord, RegistryRepo, ServerRecord, ToolRecord } from './records.js';

/** A field where the registry file and the database disagree; the database kept its value. */
export interface SeedConflict {
  entry: string;
  field: string;
  fileValue: unknown;
  databaseValue: unknown;
}

/** What importing a registry file did. */
export interface SeedReport {
  /** Entries the database did not have (`server`, `server.tool`, `agent:<id>`). */
  added: string[];
  conflicts: SeedConflict[];
}

/** The repository operations the import uses, and the audit hook for what it added. */
export interface SeedTarget {
  repo: Pick<RegistryRepo, 'getServer' | 'putServer' | 'getTool' | 'putTool' | 'getAgent' | 'putAgent'>;
  /** Audits one imported entry (`registry.*.imported`). */
  imported(entry: { kind: 'server' | 'tool' | 'agent'; name: string; server?: string }, details: Record<string, unknown>): Promise<void>;
  now(): string;
}

/** The server's own name for a tool the file names as policies see it (`deploy.release` on `deploy` → `release`). */
function ownName(tool: Tool): string {
  return tool.name.startsWith(`${tool.server}.`) ? tool.name.slice(tool.server.length + 1) : tool.name;
}

function compare(entry: string, fields: Record<string, [unknown, unknown]>, out: SeedConflict[]): void {
  for (const [field, [fileValue, databaseValue]] of Object.entries(fields)) {
    if (fileValue === undefined) continue;
    if (JSON.stringify(fileValue) !== JSON.stringify(databaseValue)) out.push({ entry, field, fileValue, databaseValue });
  }
}

/**
 * Imports a `kind: Registry` file into the database registry, idempotently: entries the database
 * lacks are added (and audited); entries it has keep the database's values, because an operator's
 * later `warden registry block` or `suspend` must survive a restart with the same file. Differences
 * are reported so the caller can say which value is in force.
 *
 * A tool imported from a file pins the file's `definitionHash` when it gives one, so a gateway that
 * discovers another definition blocks the tool as changed. Without one the pin is empty and the first
 * definition a gateway discovers is pinned, keeping the file's status and facts: an entry approved by
 * name trusts whatever that server first serves under it, so give the hash for anything that matters.
 */
export async function importRegistryDoc(target: SeedTarget, doc: RegistryDoc): Promise<SeedReport> {
  const report: SeedReport = { added: [], conflicts: [] };
  const time = target.now();
  for (const tool of doc.spec.tools ?? []) {
    const name = ownName(tool);
    if (!(await target.repo.getServer(tool.server))) {
      const server: ServerRecord = { name: tool.server, scope: 'default', status: 'approved', info: { source: 'registry file' }, firstSeen: time, lastSeen: time };
      // Insert only: a server another process registered (or an operator blocked) since the read stays as it is.
      if (await target.repo.putServer(server, { ifAbsent: true })) {
        report.added.push(tool.server);
        await target.imported({ kind: 'server', name: tool.server }, { status: server.status });
      }
    }
    const status = tool.status ?? 'approved';
    const compareWith = (existing: ToolRecord) =>
      compare(`${tool.server}.${name}`, { status: [status, existing.status], risk: [tool.risk, existing.risk], owner: [tool.owner, existing.owner], capabilities: [tool.capabilities, existing.capabilities], classification: [tool.classification, existing.classification], definitionHash: [tool.definitionHash, existing.pinnedHash] }, report.conflicts);
    const existing = await target.repo.getTool(tool.server, name);
    if (existing) {
      compareWith(existing);
      continue;
    }
    const record: ToolRecord = {
      server: tool.server,
      name,
      capabilities: tool.capabilities ?? [],
      annotations: {},
      inputSchema: {},
      status,
      ...(status === 'blocked' ? { statusReason: 'blocked in the registry file' } : {}),
      ...(tool.risk ? { risk: tool.risk } : {}),
      ...(tool.owner ? { owner: tool.owner } : {}),
      ...(tool.classification ? { classification: tool.classification } : {}),
      // A file that names the definition pins it: a server that later serves another one is blocked as
      // changed. Without one, the first definition a gateway discovers is pinned (see above).
      pinnedHash: tool.definitionHash ?? '',
      observedHash: tool.definitionHash ?? '',
      firstSeen: time,
      lastSeen: time,
    };
    // Insert only, in one statement: a row written between the read and here (a gateway's discovery, an
    // operator's block) wins over the file, as an existing row does.
    if (!(await target.repo.putTool(record, { ifAbsent: true }))) {
      const now = await target.repo.getTool(tool.server, name);
      if (now) compareWith(now);
      continue;
    }
    report.added.push(`${tool.server}.${name}`);
    await target.imported({ kind: 'tool', server: tool.server, name: `${tool.server}.${name}` }, { status, ...(tool.risk ? { risk: tool.risk } : {}) });
  }
  for (const agent of doc.spec.agents ?? []) {
    const existing = await target.repo.getAgent(agent.id);
    const status: AgentRecord['status'] = agent.status === 'suspended' ? 'suspended' : 'active';
    if (existing) {
      compare(`agent:${agent.id}`, { status: [status, existing.status], kind: [agent.kind, existing.kind], owner: [agent.owner, existing.owner] }, report.conflicts);
      continue;
    }
    if (!(await target.repo.putAgent({ id: agent.id, status, updatedAt: time, ...(agent.kind ? { kind: agent.kind } : {}), ...(agent.owner ? { owner: agent.owner } : {}) } satisfies AgentRecord, { ifAbsent: true }))) continue;
    report.added.push(`agent:${agent.id}`);
    await target.imported({ kind: 'agent', name: agent.id }, { status });
  }
  return report;
}

/**
 * Imports a registry file through the repository the registry service uses, auditing each added
 * entry as `registry.<kind>.imported` by the system.
 */
export async function seedRegistry(deps: { repo: SeedTarget['repo']; audit: Pick<AuditSink, 'append'>; clock: Clock }, doc: RegistryDoc): Promise<SeedReport> {
  return importRegistryDoc(
    {
      repo: deps.repo,
      now: () => deps.clock.now().toISOString(),
      async imported(target, details) {
        const type: AuditEventType = `registry.${target.kind}.imported`;
        await deps.audit.append([
          newAuditEvent({ scope: 'default', category: 'admin', type, severity: 'info', outcome: 'success', actor: { type: 'system', id: 'warden-registry' }, target, details }, deps.clock.now()),
        ]);
      },
    },
    doc,
  );
}
