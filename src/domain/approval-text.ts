import type { ApprovalRequest } from './approval.js';

/**
 * Who may answer a request, as one line: each rule that asked is a group (a role held at the
 * request's scope, or a named principal) and an approver must satisfy every group. The CLI's `show`
 * and the notifications print this same line.
 */
export function approversText(r: ApprovalRequest): string {
  if (r.policy.approvers.length === 0) return `only the principal \`${r.subject.principal ?? ''}\` confirms it`;
  const groups = r.policy.approvers.map((g) => [...(g.roles ?? []).map((x) => `role \`${x}\` at \`${r.subject.scope}\``), ...(g.principals ?? []).map((p) => `\`${p}\``)].join(' or '));
  return groups.length === 1 ? groups[0]! : groups.map((g) => `(${g})`).join(' and ');
}

/** What the request asks to do, in a few words: `server.tool`, the resource's URI, or the action kind. */
export function approvalTarget(r: ApprovalRequest): string {
  const s = r.subject;
  return s.tool ? `${s.tool.server}.${s.tool.name}` : s.resource ? s.resource.uri : s.kind;
}
