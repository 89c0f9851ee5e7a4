/**
 * The GraphQL schema (SDL) of `/api/graphql`: reads only, each field answering like the REST route
 * named in its description, with the same names and values (a field REST leaves out is null here).
 * Nested parts of audit events and registry records that REST gives as free JSON are the `JSON` scalar.
 */
export const SCHEMA = /* GraphQL */ `
"Any JSON value, as REST gives it."
scalar JSON

type Query {
  "The policies the caller may read: file ones (read-only) and managed ones. GET /api/v1/policies (entities)"
  policies: [Policy!]
  "One policy. GET /api/v1/policies/{name}"
  policy(name: String!): Policy
  "Audit events, newest first, with the filters and cursor of GET /api/v1/audit/events"
  auditEvents(
    from: String
    to: String
    agent: String
    tool: String
    principal: String
    effect: String
    scope: String
    category: String
    type: String
    outcome: String
    q: String
    limit: Int
    cursor: String
  ): AuditEventPage
  "GET /api/v1/registry/servers"
  servers: [Server!]
  "GET /api/v1/registry/servers/{server}"
  server(name: String!): Server
  "GET /api/v1/registry/tools"
  tools(server: String, status: String): [Tool!]
  "GET /api/v1/registry/tools/{server}/{tool}"
  tool(server: String!, name: String!): Tool
  "GET /api/v1/registry/agents"
  agents: [Agent!]
  "GET /api/v1/tokens"
  tokens: [Token!]
}

type Policy {
  name: String!
  "managed, or file (read from --policies, read-only)"
  source: String!
  scopes: [String!]!
  activeVersion: Int
  latestVersion: Int!
  archived: Boolean!
  createdAt: String
  updatedAt: String
  "The active version. GET /api/v1/policies/{name} (active)"
  active: PolicyVersion
  "Every version, oldest first. GET /api/v1/policies/{name}/versions"
  versions: [PolicyVersion!]
  "GET /api/v1/policies/{name}/versions/{n}"
  version(number: Int!): PolicyVersion
  "GET /api/v1/policies/{name}/diff?from=&to="
  diff(from: Int!, to: Int!): PolicyDiff
}

type PolicyVersion {
  name: String!
  number: Int!
  hash: String!
  path: String!
  author: String!
  createdAt: String!
  status: String!
  rollbackOf: Int
  submittedBy: String
  submittedAt: String
  activatedBy: String
  activatedAt: String
  reviews: [Review!]!
  "the YAML exactly as submitted"
  source: String!
}

type Review {
  reviewer: String!
  verdict: String!
  comment: String
  createdAt: String!
}

type PolicyDiff {
  from: Int!
  to: Int!
  unified: String!
  addedRules: [String!]!
  removedRules: [String!]!
  changedRules: [String!]!
  changedSettings: [String!]!
}

type AuditEventPage {
  events: [AuditEvent!]!
  "Pass it as cursor for the next page; null on the last."
  nextCursor: String
}

type AuditEvent {
  id: String!
  schemaVersion: String!
  time: String!
  loggedAt: String
  tenantId: String!
  scope: String!
  category: String!
  type: String!
  severity: String!
  outcome: String!
  actor: JSON!
  onBehalfOf: JSON
  agent: JSON
  target: JSON
  action: JSON
  decision: JSON
  findings: JSON
  "captured bodies only for a role that may read them at the event's scope"
  payload: JSON
  latencyMs: Float
  correlationId: String
  trace: JSON
  details: JSON
  producer: JSON
  integrity: JSON
}

type Server {
  name: String!
  scope: String!
  owner: String
  status: String!
  statusReason: String
  info: JSON!
  firstSeen: String!
  lastSeen: String!
  "The server's tools. GET /api/v1/registry/tools?server="
  tools: [Tool!]
}

type Tool {
  server: String!
  name: String!
  owner: String
  risk: String
  capabilities: [String!]!
  classification: String
  annotations: JSON!
  description: String
  inputSchema: JSON!
  status: String!
  statusReason: String
  pinnedHash: String!
  observedHash: String!
  firstSeen: String!
  lastSeen: String!
}

type Agent {
  id: String!
  kind: String
  owner: String
  status: String!
  updatedAt: String!
}

type Token {
  id: String!
  tenantId: String!
  name: String!
  prefix: String!
  role: String!
  scope: String
  agentId: String
  principal: String
  createdAt: String!
  createdBy: String!
  expiresAt: String
  revokedAt: String
  lastUsedAt: String
}
`;
