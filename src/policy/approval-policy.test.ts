import { describe, expect, it } from 'vitest';
import { loadPolicySources } from './load.js';
import { approvalPolicyFor } from './approval-policy.js';

const setWith = (settings: string) =>
  loadPolicySources([{ file: 's.yaml', text: `apiVersion: warden.dev/v1\nkind: ScopeSettings\nmetadata: { scope: acme }\nspec: ${settings}\n` }]).set!;

describe('approval policy from rules and scope settings', () => {
  it('takes the strictest of several rules: every group, the largest count, the shortest timeout', () => {
    const p = approvalPolicyFor(setWith('{}'), 'acme/x', [
      { policy: 'p', rule: 'a', approvers: { roles: ['approver'] }, count: 1, timeout: '1h' },
      { policy: 'p', rule: 'b', approvers: { principals: ['ciso'] }, count: 2, timeout: '10m', reuse: 'session' },
    ]);
    expect(p).toMatchObject({ approvers: [{ roles: ['approver'] }, { principals: ['ciso'] }], count: 2, timeoutMs: 600_000, reuse: 'once', confirm: false });
  });

  it('a decision no rule asked approval for (a require_approval default) is answered by an approver', () => {
    expect(approvalPolicyFor(setWith('{}'), 'acme/x', [])).toMatchObject({ approvers: [{ roles: ['approver'] }], count: 1 });
  });

  it('a confirmation alone needs no approver, unless the scope demands approvers or a recent sign-in', () => {
    const confirm = [{ policy: 'p', rule: 'c', approvers: {}, count: 1, confirm: 'principal' as const }];
    expect(approvalPolicyFor(setWith('{}'), 'acme/x', confirm)).toMatchObject({ approvers: [], count: 0, confirm: true });
    expect(approvalPolicyFor(setWith('{ approvals: { minCount: 2 } }'), 'acme/x', confirm)).toMatchObject({ approvers: [{ roles: ['approver'] }], count: 2, confirm: true });
    expect(approvalPolicyFor(setWith('{ approvals: { reauth: 5m } }'), 'acme/x', confirm)).toMatchObject({ approvers: [{ roles: ['approver'] }], count: 1, reauthMinutes: 5 });
  });
});
