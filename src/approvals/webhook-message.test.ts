import { describe, expect, it } from 'vitest';
import { approvalDigest, type ApprovalRequest, type ApprovalSubject } from '../domain/index.js';
import { argumentsText, MAX_ARGS_CHARS, slackMessage } from './webhook-message.js';
import { signApprovalWebhook } from './notifier.js';

function request(args: Record<string, unknown>): ApprovalRequest {
  const subject: ApprovalSubject = { tenantId: 'default', kind: 'tool.call', scope: 'acme/p', tool: { server: 'deploy', name: 'release' }, args, principal: 'alice', agent: 'agent-7', policySetVersion: 'v1' };
  return {
    id: `apr_${'0'.repeat(32)}`,
    tenantId: 'default',
    digest: approvalDigest(subject),
    status: 'pending',
    subject,
    policy: { approvers: [{ roles: ['approver'] }, { principals: ['carol'] }], count: 2, confirm: false, timeoutMs: 60_000, reuse: 'once', agentOwnerMayApprove: false, rules: ['p/r'] },
    createdAt: '2026-12-07T10:00:00.000Z',
    expiresAt: '2026-12-07T10:01:00.000Z',
    votes: [],
  };
}
const links = { approve: 'https://w/a', deny: 'https://w/d', show: 'https://w/s' };

describe('the Slack message', () => {
  it('keeps agent text from ending the code block, pinging anyone or forming links', () => {
    const m = JSON.stringify(slackMessage(request({ x: '```\n<!channel> <https://evil|click> & more' }), links));
    expect(m).not.toContain('<!channel>');
    expect(m).not.toContain('<https://evil');
    expect(m).toContain('&lt;!channel&gt; &lt;https://evil|click&gt; &amp; more');
    // One block opens and one closes: the agent's ``` is broken by a zero-width space.
    const args = (slackMessage(request({ x: '```' }), links).blocks[2] as { text: { text: string } }).text.text;
    expect(args.match(/```/g)).toHaveLength(2);
  });

  it('names every group of approvers and the count', () => {
    const fields = JSON.stringify((slackMessage(request({}), links).blocks[1] as { fields: unknown[] }).fields);
    expect(fields).toContain('*Must answer*\\n2 of (role `approver` at `acme/p`) and (`carol`)');
  });
});

describe('the arguments text', () => {
  it('is the canonical key order, pretty-printed, and cut with a note past the limit', () => {
    expect(argumentsText(request({ b: 1, a: { d: 2, c: 3 } }))).toBe('{\n  "a": {\n    "c": 3,\n    "d": 2\n  },\n  "b": 1\n}');
    const long = argumentsText(request({ a: 'y'.repeat(MAX_ARGS_CHARS) }));
    expect(long.startsWith(`{\n  "a": "${'y'.repeat(MAX_ARGS_CHARS - 10)}`)).toBe(true);
    expect(long).toMatch(/… cut at 2500 of 2513 characters/);
  });
});

describe('the webhook signature', () => {
  it('is v1= and the hex HMAC-SHA256 over `timestamp.body`', () => {
    // echo -n '1700000000.{}' | openssl dgst -sha256 -hmac secret
    expect(signApprovalWebhook('secret', '1700000000', '{}')).toBe('v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163');
    expect(signApprovalWebhook('secret', '1700000000', '{}')).not.toBe(signApprovalWebhook('secret', '1700000001', '{}'));
  });
});
