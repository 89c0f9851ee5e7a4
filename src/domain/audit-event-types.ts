/**
 * The catalogue of audit event `type` names. Events, filters (`warden audit export --type`) and
 * docs/errors.md name an event type from this table; a name, once released, keeps its meaning.
 * `<kind>` types exist for every action kind the checkpoint decides or the gateway forwards.
 *
 * INVARIANT: every type written to the audit log is listed here (test/error-catalogue.test.ts).
 */
export const AUDIT_EVENT_TYPES = {
  'tool.call.decided': 'the checkpoint decided a tool call',
  'tool.list.decided': 'the checkpoint decided a tool listing',
  'resource.read.decided': 'the checkpoint decided a resource read',
  'resource.list.decided': 'the checkpoint decided a resource listing',
  'prompt.get.decided': 'the checkpoint decided a prompt get',
  'model.request.decided': 'the checkpoint decided a model request',
  'tool.call.completed': 'the upstream answered an allowed tool call',
  'tool.call.failed': 'the upstream failed an allowed tool call',
  'tool.call.output_blocked': 'the result of a tool call was withheld after inspection',
  'tool.call.rate_limited': 'a tool call was refused by a rate limit',
  'tool.call.rate_limiter_unavailable': 'a tool call under a rate limit was refused because the limiter (Redis) did not answer',
  'tool.call.invalid_arguments': 'a tool call was refused because its arguments break the input schema',
  'tool.call.unknown_tool': 'a tool call named a tool the gateway does not serve (a probe with a look-alike name included); no decision',
  'resource.read.completed': 'the upstream answered an allowed resource read',
  'resource.read.failed': 'the upstream failed an allowed resource read',
  'resource.read.output_blocked': 'the content of a resource read was withheld after inspection',
  'resource.read.rate_limited': 'a resource read was refused by a rate limit',
  'resource.read.rate_limiter_unavailable': 'a resource read under a rate limit was refused because the limiter (Redis) did not answer',
  'resource.read.unknown_resource': 'a resource read named a URI the gateway does not serve; no decision',
  'prompt.get.completed': 'the upstream answered an allowed prompt get',
  'prompt.get.failed': 'the upstream failed an allowed prompt get',
  'prompt.get.output_blocked': 'the messages of a prompt get were withheld after inspection',
  'prompt.get.rate_limited': 'a prompt get was refused by a rate limit',
  'prompt.get.rate_limiter_unavailable': 'a prompt get under a rate limit was refused because the limiter (Redis) did not answer',
  'gateway.session.refused': 'an agent could not open a session because it, or the gateway, holds the most sessions allowed',
  'prompt.get.invalid_arguments': 'a prompt get was refused because an argument to forward is not a string',
  'prompt.get.unknown_prompt': 'a prompt get named a prompt the gateway does not serve; no decision',
  'finding.detected': 'a detector reported findings in an action',
  'registry.server.discovered': 'a server was seen for the first time',
  'registry.server.approved': 'a server was approved',
  'registry.server.blocked': 'a server, and so every tool on it, was blocked',
  'registry.tool.discovered': 'a tool was seen for the first time',
  'registry.tool.definition_changed': 'a tool changed its definition after it was pinned and was blocked',
  'registry.tool.poisoned': 'a tool definition carries hidden instructions and was blocked',
  'registry.tool.approved': 'a tool was approved and its definition pinned',
  'registry.tool.blocked': 'a tool was blocked',
  'registry.server.imported': 'a server named in a registry file was added to the database registry',
  'registry.tool.imported': 'a tool named in a registry file was added to the database registry',
  'registry.agent.imported': 'an agent named in a registry file was added to the database registry',
  'registry.agent.suspended': 'an agent was suspended',
  'registry.agent.resumed': 'a suspended agent was reactivated',
  'audit.retention.updated': 'a retention period was set',
  'audit.retention.cleared': 'a retention period was removed',
  'audit.retention.deleted': 'events past their retention were deleted',
  'audit.retention.partition_dropped': 'a monthly partition past its retention was dropped',
  'audit.hold.created': 'a legal hold was placed',
  'audit.hold.released': 'a legal hold was released',
} as const;

/** A catalogued audit event type. */
export type AuditEventType = keyof typeof AUDIT_EVENT_TYPES;
