/**
 * When a governed request's decision event must be durable (docs/gateway.md, "Audit modes").
 *
 * - `before-forward`: nothing is forwarded until its decision is committed.
 * - `before-respond`: the commit overlaps the upstream call; nothing (result, refusal or upstream
 *   error) reaches the agent until the decision is committed. If the commit fails after the call was
 *   forwarded, the agent gets `audit.write_failed` instead of the result.
 *
 * In both modes no agent ever acts on an answer whose decision is not in the audit log.
 */
export type AuditMode = 'before-forward' | 'before-respond';

/** Every audit mode, for the CLI and the config file. */
export const AUDIT_MODES: readonly AuditMode[] = ['before-forward', 'before-respond'];

/** The mode a gateway runs in unless told otherwise; chosen from bench/RESULTS.md, "Gateway audit modes (issue 19)". */
export const DEFAULT_AUDIT_MODE: AuditMode = 'before-forward';

/** Whether `text` names an audit mode. */
export function isAuditMode(text: string): text is AuditMode {
  return (AUDIT_MODES as readonly string[]).includes(text);
}
