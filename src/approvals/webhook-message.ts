import { approvalTarget, approversText, canonicalJson, type ApprovalRequest } from '../domain/index.js';

/** The most argument text a message carries: Slack refuses a section over 3 000 characters. */
export const MAX_ARGS_CHARS = 2500;

/** The links a message offers: answer by link (still authenticated), or look at the request. */
export interface MessageLinks {
  approve: string;
  deny: string;
  /** The request in the API (`GET /api/v1/approvals/<id>`). */
  show: string;
}

/**
 * The arguments as the digest covers them, in its key order (RFC 8785), pretty-printed; cut at
 * {@link MAX_ARGS_CHARS} with a note naming the full size, so nobody approves a cut text unknowingly.
 */
export function argumentsText(r: ApprovalRequest): string {
  if (r.subject.args === undefined) return '(no arguments)';
  const full = JSON.stringify(JSON.parse(canonicalJson(r.subject.args)), null, 2);
  if (full.length <= MAX_ARGS_CHARS) return full;
  return `${full.slice(0, MAX_ARGS_CHARS)}\n… cut at ${MAX_ARGS_CHARS} of ${full.length} characters: \`warden approvals show ${r.id}\` prints them whole`;
}

// Slack reads `<…>` as links and mentions (`<!channel>`) and `&` as an entity: agent-chosen text is
// escaped so it can only ever be shown, never ping anyone or disguise a link.
const escapeSlack = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
// A ``` inside the arguments would close the code block early and let the rest render as markup.
const inCodeBlock = (s: string): string => `\`\`\`${escapeSlack(s).replaceAll('```', '`\u200b``')}\`\`\``;
const code = (s: string): string => `\`${escapeSlack(s).replaceAll('`', "'")}\``;

/** A Slack-compatible message (incoming webhooks, Block Kit): `text` for notifications, `blocks` for the card. */
export function slackMessage(r: ApprovalRequest, links: MessageLinks): { text: string; blocks: unknown[] } {
  const s = r.subject;
  const expiresUnix = Math.floor(Date.parse(r.expiresAt) / 1000);
  const requester = `${s.principal ? code(s.principal) : 'no principal'}${s.agent ? ` via agent ${code(s.agent)}` : ''}`;
  const needs = `${r.policy.count} of ${escapeSlack(approversText(r))}${r.policy.confirm ? ", and the principal's own confirmation" : ''}`;
  return {
    text: escapeSlack(`Approval needed: ${approvalTarget(r)} asked by ${s.principal ?? 'no principal'}${s.agent ? ` via agent ${s.agent}` : ''} at ${s.scope} (${r.id}, expires ${r.expiresAt})`),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `Approval needed: ${approvalTarget(r)}`.slice(0, 150) } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Requester*\n${requester}` },
          { type: 'mrkdwn', text: `*Scope*\n${code(s.scope)}` },
          { type: 'mrkdwn', text: `*Expires*\n<!date^${expiresUnix}^{date_short_pretty} {time}|${r.expiresAt}>` },
          { type: 'mrkdwn', text: `*Must answer*\n${needs}` },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: `*Arguments* (exactly what the approval is bound to)\n${inCodeBlock(argumentsText(r))}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `request ${code(r.id)} · ${code(r.digest)} · release ${code(s.policySetVersion)}${s.session ? ` · session ${code(s.session)}` : ''}` }] },
      {
        type: 'actions',
        elements: [
          { type: 'button', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, url: links.approve, action_id: 'warden_approve' },
          { type: 'button', style: 'danger', text: { type: 'plain_text', text: 'Deny' }, url: links.deny, action_id: 'warden_deny' },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Both links ask you to sign in to Warden first and answer once; every approval rule still applies.' }] },
    ],
  };
}

/** The plain JSON form: the request as the API returns it, and the same links. */
export function jsonMessage(r: ApprovalRequest, links: MessageLinks): { type: 'approval.request.created'; approval: ApprovalRequest; links: MessageLinks } {
  return { type: 'approval.request.created', approval: r, links };
}
