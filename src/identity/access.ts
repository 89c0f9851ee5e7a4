import { ROLES, type Role } from './roles.js';

/** Every role a person holds (not the machine roles). */
const PEOPLE: readonly Role[] = ['owner', 'admin', 'policy_author', 'approver', 'auditor', 'analyst', 'viewer'];
const ANY: readonly Role[] = ROLES;
/** Who writes and reviews managed policies (src/policies/service.ts checks them at the policy's scopes). */
const POLICY_WRITERS: readonly Role[] = ['owner', 'admin', 'policy_author'];
/** Who works abuse cases, labels and mitigations, and who reads them (src/abuse checks them at the case's scope). */
export const ABUSE_ACTORS: readonly Role[] = ['owner', 'admin', 'analyst'];
export const ABUSE_READERS: readonly Role[] = [...ABUSE_ACTORS, 'auditor'];
/** Who reads captured call bodies (`payload.args`, `payload.result`) of the audit events they read. */
export const AUDIT_BODY_READERS: readonly Role[] = ['owner', 'admin', 'auditor'];

/** Who may call one API route, and how the handler narrows it further by scope. */
export interface RouteAccess {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The route as Fastify registers it (`:param`, `*`). */
  url: string;
  /** A credential holding one of these roles, at any scope, passes the gate; the rest get 403. */
  roles: readonly Role[];
  /** What the handler checks beyond the gate: the scope the roles must hold at. */
  scoping: string;
}

/** The REST routes; {@link ROUTE_ACCESS} is these and GraphQL's. */
const REST: readonly RouteAccess[] = [
  { method: 'GET', url: '/api/v1/whoami', roles: ANY, scoping: 'the caller itself' },
  { method: 'GET', url: '/api/openapi.json', roles: ANY, scoping: 'none: the document describes the API, not a tenant' },
  { method: 'POST', url: '/api/v1/decide', roles: ['owner', 'admin', 'agent', 'enforcer'], scoping: "the role must hold at the action's `scope`; only `enforcer` may assert a principal, agent or time other than its own" },
  { method: 'POST', url: '/api/v1/decide/outcome', roles: ['owner', 'admin', 'agent', 'enforcer'], scoping: "the credential that asked for the decision, or `enforcer` at the decision's scope; another tenant's or another credential's decision: 404" },
  { method: 'GET', url: '/api/v1/audit/events', roles: ['owner', 'admin', 'auditor', 'analyst'], scoping: 'events of the scopes where the role holds; `analyst` sees no captured bodies' },
  { method: 'GET', url: '/api/v1/audit/destinations', roles: ['owner', 'admin', 'auditor'], scoping: "the tenant's cursors; tenant-wide role" },
  { method: 'GET', url: '/api/v1/audit/destinations/:name/dead-letters', roles: ['owner', 'admin', 'auditor'], scoping: "the tenant's dead letters; tenant-wide role" },
  { method: 'POST', url: '/api/v1/audit/destinations/:name/replay', roles: ['owner', 'admin'], scoping: "the tenant's chain only; tenant-wide role" },
  { method: 'GET', url: '/api/v1/audit/retention', roles: ['owner', 'admin', 'auditor'], scoping: "the tenant's retention periods" },
  { method: 'PUT', url: '/api/v1/audit/retention/:category', roles: ['owner', 'admin'], scoping: 'tenant-wide role' },
  { method: 'DELETE', url: '/api/v1/audit/retention/:category', roles: ['owner', 'admin'], scoping: 'tenant-wide role' },
  { method: 'GET', url: '/api/v1/audit/holds', roles: ['owner', 'admin', 'auditor'], scoping: 'holds at scopes where the role holds' },
  { method: 'POST', url: '/api/v1/audit/holds', roles: ['owner', 'admin'], scoping: "the role must hold at the hold's scope" },
  { method: 'POST', url: '/api/v1/audit/holds/:id/release', roles: ['owner', 'admin'], scoping: "the role must hold at the hold's scope" },
  { method: 'GET', url: '/api/v1/registry/servers', roles: PEOPLE, scoping: "servers at scopes where the role holds (a server's scope is where it was discovered)" },
  { method: 'GET', url: '/api/v1/registry/servers/:server', roles: PEOPLE, scoping: "the role must hold at the server's scope" },
  { method: 'GET', url: '/api/v1/registry/tools', roles: PEOPLE, scoping: "tools of the servers at scopes where the role holds" },
  { method: 'GET', url: '/api/v1/registry/tools/:server/:tool', roles: PEOPLE, scoping: "the role must hold at the server's scope" },
  { method: 'GET', url: '/api/v1/registry/agents', roles: PEOPLE, scoping: "the tenant's agents" },
  { method: 'POST', url: '/api/v1/registry/servers/:server/approve', roles: ['owner', 'admin'], scoping: "the role must hold at the server's scope" },
  { method: 'POST', url: '/api/v1/registry/servers/:server/block', roles: ['owner', 'admin'], scoping: "the role must hold at the server's scope" },
  { method: 'POST', url: '/api/v1/registry/tools/:server/:tool/approve', roles: ['owner', 'admin'], scoping: "the role must hold at the server's scope" },
  { method: 'POST', url: '/api/v1/registry/tools/:server/:tool/block', roles: ['owner', 'admin'], scoping: "the role must hold at the server's scope" },
  { method: 'POST', url: '/api/v1/registry/agents/:id/suspend', roles: ['owner', 'admin'], scoping: 'tenant-wide role (agents belong to the whole tenant)' },
  { method: 'POST', url: '/api/v1/registry/agents/:id/resume', roles: ['owner', 'admin'], scoping: 'tenant-wide role (agents belong to the whole tenant)' },
  { method: 'GET', url: '/api/v1/policies', roles: [...PEOPLE, 'enforcer'], scoping: "the set in force for the caller's tenant; `entities` lists the policies at scopes where the role holds (or that govern a scope below it)" },
  { method: 'POST', url: '/api/v1/policies/replay', roles: ['owner', 'admin', 'policy_author', 'auditor'], scoping: 'decision events at scopes where the role holds; stored drafts the caller may read' },
  { method: 'GET', url: '/api/v1/policies/:name', roles: PEOPLE, scoping: "a role at (or below) one of the policy's scopes; else 404" },
  { method: 'PUT', url: '/api/v1/policies/:name', roles: POLICY_WRITERS, scoping: "the role must hold at every scope of the new content and of the policy's latest version" },
  { method: 'DELETE', url: '/api/v1/policies/:name', roles: POLICY_WRITERS, scoping: "the role must hold at every scope of the policy" },
  { method: 'GET', url: '/api/v1/policies/:name/versions', roles: PEOPLE, scoping: "a role at (or below) one of the policy's scopes" },
  { method: 'GET', url: '/api/v1/policies/:name/versions/:n', roles: PEOPLE, scoping: "a role at (or below) one of the policy's scopes" },
  { method: 'GET', url: '/api/v1/policies/:name/diff', roles: PEOPLE, scoping: "a role at (or below) one of the policy's scopes" },
  { method: 'POST', url: '/api/v1/policies/:name/versions/:n/submit', roles: POLICY_WRITERS, scoping: "the role must hold at every scope of the policy" },
  { method: 'POST', url: '/api/v1/policies/:name/versions/:n/approve', roles: POLICY_WRITERS, scoping: "the role must hold at every scope of the version; never by the person who wrote or submitted it" },
  { method: 'POST', url: '/api/v1/policies/:name/versions/:n/comment', roles: POLICY_WRITERS, scoping: 'the role must hold at every scope of the version' },
  { method: 'POST', url: '/api/v1/policies/:name/versions/:n/activate', roles: POLICY_WRITERS, scoping: "the role must hold at every scope of the policy and of the version; the version needs its scopes' approvals" },
  { method: 'POST', url: '/api/v1/policies/:name/rollback', roles: POLICY_WRITERS, scoping: "the role must hold at every scope of the policy and of the restored version" },
  { method: 'GET', url: '/api/v1/approvals', roles: [...PEOPLE, 'agent', 'enforcer'], scoping: "requests at scopes where `owner`, `admin`, `approver` or `auditor` holds (or `enforcer`), requests naming the caller as approver or principal, and an agent's own" },
  { method: 'GET', url: '/api/v1/approvals/:id', roles: [...PEOPLE, 'agent', 'enforcer'], scoping: 'as the list: else 404' },
  { method: 'POST', url: '/api/v1/approvals/:id/approve', roles: PEOPLE, scoping: "the rule's approvers at the request's scope (a role held there, or a named principal); never the requesting principal, the agent or (unless the scope allows) its owner; one answer per person" },
  { method: 'POST', url: '/api/v1/approvals/:id/deny', roles: PEOPLE, scoping: 'as approve' },
  { method: 'GET', url: '/api/v1/approvals/:id/link', roles: PEOPLE, scoping: "a valid, unexpired signed link for this request; the request as the list: else 404; says whether the caller may answer" },
  { method: 'POST', url: '/api/v1/approvals/:id/link', roles: PEOPLE, scoping: 'a valid, unexpired, unused signed link for this request; then as approve (or deny, as the link says)' },
  { method: 'POST', url: '/api/v1/approvals/:id/cancel', roles: ['owner', 'admin', 'agent', 'enforcer'], scoping: "the requesting agent, or `enforcer`, `owner` or `admin` at the request's scope" },
  { method: 'GET', url: '/api/v1/abuse/labels', roles: ABUSE_READERS, scoping: "the tenant's live labels" },
  { method: 'POST', url: '/api/v1/abuse/labels', roles: ABUSE_ACTORS, scoping: 'tenant-wide role (policies read labels at every scope); a label on a scope: the role at that scope' },
  { method: 'DELETE', url: '/api/v1/abuse/labels/:kind/:entity/:name', roles: ABUSE_ACTORS, scoping: 'as adding a label' },
  { method: 'GET', url: '/api/v1/abuse/mitigations', roles: ABUSE_READERS, scoping: "the tenant's mitigations" },
  { method: 'POST', url: '/api/v1/abuse/mitigations/:id/lift', roles: ABUSE_ACTORS, scoping: "tenant-wide role; a mitigation against a scope: the role at that scope" },
  { method: 'GET', url: '/api/v1/abuse/cases', roles: ABUSE_READERS, scoping: 'cases at scopes where the role holds' },
  { method: 'GET', url: '/api/v1/abuse/cases/:id', roles: ABUSE_READERS, scoping: "the role must hold at the case's scope; else 404" },
  { method: 'POST', url: '/api/v1/abuse/cases/:id/claim', roles: ABUSE_ACTORS, scoping: "the role must hold at the case's scope; one claim at a time" },
  { method: 'POST', url: '/api/v1/abuse/cases/:id/release', roles: ABUSE_ACTORS, scoping: "one's own claim; `owner` or `admin` at the case's scope release anyone's" },
  { method: 'POST', url: '/api/v1/abuse/cases/:id/decide', roles: ABUSE_ACTORS, scoping: "the role at the case's scope, and the case claimed by the caller" },
  { method: 'POST', url: '/api/v1/abuse/cases/:id/notes', roles: ABUSE_ACTORS, scoping: "the role must hold at the case's scope" },
  { method: 'POST', url: '/api/v1/abuse/replay', roles: ABUSE_READERS, scoping: 'events at scopes where the role holds; captured arguments only where `owner`, `admin` or `auditor` holds' },
  { method: 'GET', url: '/api/v1/abuse/rules/stats', roles: ABUSE_READERS, scoping: "the tenant's cases, counted per rule" },
  { method: 'GET', url: '/api/v1/tenant', roles: PEOPLE, scoping: "the caller's tenant" },
  { method: 'GET', url: '/api/v1/scopes', roles: PEOPLE, scoping: "the tenant's scope tree" },
  { method: 'PUT', url: '/api/v1/scopes/*', roles: ['owner', 'admin'], scoping: 'the role must hold at the scope' },
  { method: 'GET', url: '/api/v1/tokens', roles: ['owner', 'admin'], scoping: 'tokens granted at scopes where the role holds' },
  { method: 'POST', url: '/api/v1/tokens', roles: ['owner', 'admin'], scoping: 'the role must hold at the new grant\'s scope; only `owner` grants `owner`' },
  { method: 'DELETE', url: '/api/v1/tokens/:id', roles: ['owner', 'admin'], scoping: "the role must hold at the token's scope" },
  { method: 'POST', url: '/api/v1/tokens/:id/rotate', roles: ['owner', 'admin'], scoping: "the role must hold at the token's scope" },
];

/**
 * The REST reads GraphQL answers too (src/api/graphql): each field passes the gate of the route it
 * answers like, then calls what that route calls.
 */
export const GRAPHQL_READS = [
  'GET /api/v1/policies',
  'GET /api/v1/policies/:name',
  'GET /api/v1/policies/:name/versions',
  'GET /api/v1/policies/:name/versions/:n',
  'GET /api/v1/policies/:name/diff',
  'GET /api/v1/audit/events',
  'GET /api/v1/registry/servers',
  'GET /api/v1/registry/servers/:server',
  'GET /api/v1/registry/tools',
  'GET /api/v1/registry/tools/:server/:tool',
  'GET /api/v1/registry/agents',
  'GET /api/v1/tokens',
] as const;
export type GraphqlRead = (typeof GRAPHQL_READS)[number];

/** GraphQL's own gate lets in whoever may call one of the routes it answers like; nobody else gets past it. */
const graphqlRoles: readonly Role[] = ROLES.filter((role) => REST.some((r) => (GRAPHQL_READS as readonly string[]).includes(`${r.method} ${r.url}`) && r.roles.includes(role)));

/**
 * THE authorization table: every `/api/*` route and the roles that may call it. The API's
 * authentication hook refuses a route that is missing here (fail closed), docs/api.md prints this
 * table (`npx tsx scripts/gen-api-docs.ts`), and test/route-roles.test.ts calls every route with
 * every role and checks the answer against it.
 */
export const ROUTE_ACCESS: readonly RouteAccess[] = [
  ...REST,
  { method: 'POST', url: '/api/graphql', roles: graphqlRoles, scoping: 'each field passes the gate of the REST route it answers like and is scoped as that route is' },
];

const INDEX = new Map(ROUTE_ACCESS.map((r) => [`${r.method} ${r.url}`, r]));

/** The table's entry for a registered route, or undefined (the hook then refuses it). */
export function accessOf(method: string, url: string): RouteAccess | undefined {
  return INDEX.get(`${method === 'HEAD' ? 'GET' : method} ${url}`);
}

/** True when one of the credential's grants carries one of the route's roles. */
export function mayCall(access: RouteAccess, roles: readonly Role[]): boolean {
  return roles.some((r) => access.roles.includes(r));
}

/** The route x role table as docs/api.md prints it: one row per route, a ✓ per role that may call it. */
export function renderRouteTable(access: readonly RouteAccess[] = ROUTE_ACCESS): string {
  const head = `| Route | ${ROLES.map((r) => `\`${r}\``).join(' | ')} | Scoping |`;
  const rule = `|---|${ROLES.map(() => ':-:').join('|')}|---|`;
  const rows = access.map((a) => `| \`${a.method} ${a.url}\` | ${ROLES.map((r) => (a.roles.includes(r) ? '✓' : '')).join(' | ')} | ${a.scoping.replace(/\|/g, '\\|')} |`);
  return [head, rule, ...rows].join('\n');
}
