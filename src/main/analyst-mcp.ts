import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Type, type TSchema } from '@sinclair/typebox';
import { CASE_OUTCOMES, CONNOTATIONS, ENTITY_KINDS, LABEL_NAME_PATTERN, compileValidator, formatIssues, isWardenError, type EntityRef } from '../domain/index.js';
import { AuditEventsQuery } from '../api/reads/audit-events.js';
import { GATEWAY_VERSION } from '../gateway/session.js';
import { FineDuration, durationMs, type PolicySource } from '../policy/index.js';

/**
 * What the analyst tools call: the same services the API and the CLI call, with the analyst's
 * credential bound in (so their roles limit the agent as they limit the person).
 */
export interface AnalystServices {
  auditSearch(q: AuditEventsQuery): Promise<unknown>;
  casesList(filter: { queue?: string; status?: 'open' | 'claimed' | 'closed'; rule?: string; overdue?: boolean }): Promise<unknown>;
  caseShow(id: string): Promise<unknown>;
  caseClaim(id: string): Promise<unknown>;
  caseRelease(id: string): Promise<unknown>;
  caseNote(id: string, text: string): Promise<unknown>;
  caseDecide(id: string, d: { outcome: (typeof CASE_OUTCOMES)[number]; note?: string; queue?: string }): Promise<unknown>;
  labelsList(filter: { kind?: EntityRef['kind']; entity?: string; name?: string }): Promise<unknown>;
  labelAdd(input: { entity: EntityRef; name: string; connotation: (typeof CONNOTATIONS)[number]; reason: string; ttlMs?: number }): Promise<unknown>;
  labelRemove(entity: EntityRef, name: string): Promise<unknown>;
  mitigationsList(filter: { kind?: EntityRef['kind']; entity?: string }): Promise<unknown>;
  mitigate(input: { entity: EntityRef; action: 'deny' | 'throttle' | 'suspend' | 'kill'; forMs?: number; limit?: number; windowMs?: number; reason: string }): Promise<unknown>;
  mitigationLift(id: string): Promise<unknown>;
  ruleStats(): Promise<unknown>;
}

const Duration = FineDuration;
const Kind = Type.Union(ENTITY_KINDS.map((k) => Type.Literal(k)));
const Id = Type.String({ minLength: 1, maxLength: 128 });
const Entity = Type.String({ minLength: 1, maxLength: 512 });

interface ToolDef {
  name: string;
  description: string;
  input: TSchema;
  /** Changes what agents may do (labels, mitigations, a case decision): the built-in policy puts these to approval. */
  mitigates: boolean;
  run(s: AnalystServices, args: Record<string, unknown>): Promise<unknown>;
}

const obj = (props: Record<string, TSchema>) => Type.Object(props, { additionalProperties: false });
const ms = (d: unknown) => (typeof d === 'string' ? durationMs(d) : undefined);

/** The tools, in the order they are listed. */
export const ANALYST_TOOLS: readonly ToolDef[] = [
  { name: 'audit_search', description: 'Search the audit log (newest first): filters as GET /api/v1/audit/events; `q` is free text.', input: AuditEventsQuery, mitigates: false, run: (s, a) => s.auditSearch(a as AuditEventsQuery) },
  {
    name: 'cases_list',
    description: 'List abuse cases in the review queues.',
    input: obj({ queue: Type.Optional(Id), status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('claimed'), Type.Literal('closed')])), rule: Type.Optional(Id), overdue: Type.Optional(Type.Boolean()) }),
    mitigates: false,
    run: (s, a) => s.casesList(a),
  },
  { name: 'case_show', description: 'One case with its evidence, mitigations and notes.', input: obj({ id: Id }), mitigates: false, run: (s, a) => s.caseShow(a.id as string) },
  { name: 'case_claim', description: 'Claim a case (one analyst at a time).', input: obj({ id: Id }), mitigates: false, run: (s, a) => s.caseClaim(a.id as string) },
  { name: 'case_release', description: 'Release a case you claimed.', input: obj({ id: Id }), mitigates: false, run: (s, a) => s.caseRelease(a.id as string) },
  { name: 'case_note', description: 'Add a note to a case.', input: obj({ id: Id, text: Type.String({ minLength: 1, maxLength: 4000 }) }), mitigates: false, run: (s, a) => s.caseNote(a.id as string, a.text as string) },
  {
    name: 'case_decide',
    description: 'Decide a case you claimed: confirmed applies its proposed mitigations, false_positive lifts what its rule applied, escalated moves it on.',
    input: obj({ id: Id, outcome: Type.Union(CASE_OUTCOMES.map((o) => Type.Literal(o))), note: Type.Optional(Type.String({ maxLength: 4000 })), queue: Type.Optional(Id) }),
    mitigates: true,
    run: (s, a) => s.caseDecide(a.id as string, { outcome: a.outcome as (typeof CASE_OUTCOMES)[number], ...(a.note ? { note: a.note as string } : {}), ...(a.queue ? { queue: a.queue as string } : {}) }),
  },
  { name: 'labels_list', description: 'Live labels, optionally of one entity or name.', input: obj({ kind: Type.Optional(Kind), entity: Type.Optional(Entity), name: Type.Optional(Type.String({ maxLength: 64 })) }), mitigates: false, run: (s, a) => s.labelsList(a) },
  {
    name: 'label_add',
    description: 'Label an entity (policies see agent.labels, principal.labels, session.labels).',
    input: obj({ kind: Kind, entity: Entity, name: Type.String({ pattern: LABEL_NAME_PATTERN }), connotation: Type.Union(CONNOTATIONS.map((c) => Type.Literal(c))), reason: Type.String({ minLength: 1, maxLength: 1000 }), for: Type.Optional(Duration) }),
    mitigates: true,
    run: (s, a) => s.labelAdd({ entity: { kind: a.kind as EntityRef['kind'], id: a.entity as string }, name: a.name as string, connotation: a.connotation as (typeof CONNOTATIONS)[number], reason: a.reason as string, ...(ms(a.for) ? { ttlMs: ms(a.for)! } : {}) }),
  },
  { name: 'label_remove', description: 'Remove a label from an entity.', input: obj({ kind: Kind, entity: Entity, name: Type.String({ pattern: LABEL_NAME_PATTERN }) }), mitigates: true, run: (s, a) => s.labelRemove({ kind: a.kind as EntityRef['kind'], id: a.entity as string }, a.name as string) },
  { name: 'mitigations_list', description: 'Mitigations in force (deny, throttle, kill).', input: obj({ kind: Type.Optional(Kind), entity: Type.Optional(Entity) }), mitigates: false, run: (s, a) => s.mitigationsList(a) },
  {
    name: 'mitigate',
    description: 'Mitigate an entity now: deny or throttle it for a time, suspend an agent, or kill its live sessions.',
    input: obj({ kind: Kind, entity: Entity, action: Type.Union([Type.Literal('deny'), Type.Literal('throttle'), Type.Literal('suspend'), Type.Literal('kill')]), for: Type.Optional(Duration), limit: Type.Optional(Type.Integer({ minimum: 1 })), window: Type.Optional(Duration), reason: Type.String({ minLength: 1, maxLength: 1000 }) }),
    mitigates: true,
    run: (s, a) =>
      s.mitigate({
        entity: { kind: a.kind as EntityRef['kind'], id: a.entity as string },
        action: a.action as 'deny' | 'throttle' | 'suspend' | 'kill',
        reason: a.reason as string,
        ...(ms(a.for) ? { forMs: ms(a.for)! } : {}),
        ...(typeof a.limit === 'number' ? { limit: a.limit } : {}),
        ...(ms(a.window) ? { windowMs: ms(a.window)! } : {}),
      }),
  },
  { name: 'mitigation_lift', description: 'Lift a mitigation before it lapses.', input: obj({ id: Id }), mitigates: true, run: (s, a) => s.mitigationLift(a.id as string) },
  { name: 'rule_stats', description: "Each abuse rule's cases and its precision from analysts' decisions.", input: obj({}), mitigates: false, run: (s) => s.ruleStats() },
];

/** The upstream name the analyst tools are served under (`warden.case_decide` …). */
export const ANALYST_SERVER = 'warden';

const validators = new Map(ANALYST_TOOLS.map((t) => [t.name, compileValidator(t.input)]));

/**
 * The analyst tools as an MCP server. `warden mcp` serves it as the upstream of an in-process
 * gateway, so every call passes the checkpoint (policy, approvals, audit) before it reaches here.
 */
export function createAnalystServer(services: AnalystServices): Server {
  const server = new Server({ name: 'warden-analyst', version: GATEWAY_VERSION }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: ANALYST_TOOLS.map((t) => ({ name: t.name, description: t.description, inputSchema: t.input as unknown as { type: 'object' }, annotations: { readOnlyHint: !t.mitigates && !t.name.startsWith('case_'), destructiveHint: t.mitigates } })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req): Promise<CallToolResult> => {
    const tool = ANALYST_TOOLS.find((t) => t.name === req.params.name);
    if (!tool) return { isError: true, content: [{ type: 'text', text: `no tool \`${req.params.name}\`` }] };
    const checked = validators.get(tool.name)!(req.params.arguments ?? {});
    if (!checked.ok) return { isError: true, content: [{ type: 'text', text: `invalid arguments: ${formatIssues(checked.issues)}` }] };
    try {
      const out = await tool.run(services, checked.value as Record<string, unknown>);
      return { content: [{ type: 'text', text: JSON.stringify(out, null, 2) }], structuredContent: { result: out as Record<string, unknown> } };
    } catch (err) {
      // A refusal (a role that may not, a case someone else holds) is the analyst's to read, with its code.
      const text = isWardenError(err) ? `[${err.code}] ${err.message}` : 'the tool failed; the Warden log has the details';
      return { isError: true, content: [{ type: 'text', text }] };
    }
  });
  return server;
}

/**
 * The built-in policy of `warden mcp`: reads and case work are allowed; what changes what agents may
 * do (labels, mitigations, a case decision) needs an approval by another owner, admin or analyst.
 * A tenant's own policies at the scope may say otherwise (the strictest effect wins).
 */
export function analystPolicy(scope: string): PolicySource {
  const mitigating = ANALYST_TOOLS.filter((t) => t.mitigates).map((t) => `"${ANALYST_SERVER}.${t.name}"`);
  const reading = ANALYST_TOOLS.filter((t) => !t.mitigates).map((t) => `"${ANALYST_SERVER}.${t.name}"`);
  return {
    file: 'builtin:warden-mcp-analyst.yaml',
    text: `apiVersion: warden.dev/v1
kind: Policy
metadata:
  name: warden-mcp-analyst
  scope: ${scope}
  description: Built into warden mcp. Analyst agents read and work cases; mitigations wait for a person's approval.
spec:
  rules:
    - name: analyst-reads-and-case-work
      match: { actions: [tool.call], tools: [${reading.join(', ')}] }
      effect: allow
    - name: mitigations-need-approval
      match: { actions: [tool.call], tools: [${mitigating.join(', ')}] }
      effect: require_approval
      approval: { approvers: { roles: [owner, admin, analyst] }, timeout: 1h }
      message: An analyst's agent asked to change what agents may do; a person must approve this exact call.
    - name: analyst-tool-listing
      match: { actions: [tool.list] }
      effect: allow
`,
  };
}
