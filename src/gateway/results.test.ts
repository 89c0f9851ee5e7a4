import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../domain/index.js';
import { refusal } from './outcome.js';
import { DECISION_META_KEY, POLICY_DENIED, RATE_LIMITED, RESOURCE_NOT_FOUND, rpcErrorOf, toolResultOf } from './results.js';

const allow = { effect: 'allow', reasons: [], auditEventId: 'evt-1' } as unknown as Decision;
const deny = { effect: 'deny', reasons: [{ effect: 'deny', policy: 'p', rule: 'r', message: 'Not here.' }], auditEventId: 'evt-2' } as unknown as Decision;

describe('the edges of an outcome', () => {
  it('hands an ok result through unchanged', () => {
    const result = { content: [{ type: 'text', text: 'hi' }] };
    expect(toolResultOf({ ok: true, result })).toBe(result);
  });

  it('maps a refusal after a decision to an isError tool result naming the decision event', () => {
    const r = toolResultOf(refusal('output_blocked', 'Warden withheld the result of `x`: no', allow));
    expect(r).toEqual({ content: [{ type: 'text', text: 'Warden withheld the result of `x`: no' }], isError: true, _meta: { [DECISION_META_KEY]: { refusal: 'output_blocked', auditEventId: 'evt-1' } } });
  });

  it('maps a policy refusal to the deciding rules, on both edges', () => {
    const tool = toolResultOf(refusal('policy', 'ignored', deny));
    expect(tool._meta?.[DECISION_META_KEY]).toMatchObject({ refusal: 'policy', effect: 'deny', reasons: [{ policy: 'p', rule: 'r' }], auditEventId: 'evt-2' });
    const rpc = rpcErrorOf(refusal('policy', 'ignored', deny), 'read');
    expect(rpc.code).toBe(POLICY_DENIED);
    expect(rpc.message).toBe('Warden denied this read: Not here. (policy `p`, rule `r`).');
  });

  it('gives each JSON-RPC refusal its code, the upstream’s own when it sent one', () => {
    expect(rpcErrorOf(refusal('rate_limited', 'slow down', allow), 'read')).toMatchObject({ code: RATE_LIMITED, data: { [DECISION_META_KEY]: { refusal: 'rate_limited', auditEventId: 'evt-1' } } });
    expect(rpcErrorOf(refusal('upstream_error', 'failed', allow, -32051), 'prompt').code).toBe(-32051);
    expect(rpcErrorOf(refusal('upstream_error', 'failed', allow), 'prompt').code).toBe(ErrorCode.InternalError);
    expect(rpcErrorOf(refusal('unknown_resource', 'none'), 'read')).toMatchObject({ code: RESOURCE_NOT_FOUND, data: { [DECISION_META_KEY]: { refusal: 'unknown_resource' } } });
    expect(rpcErrorOf(refusal('unknown_prompt', 'none'), 'prompt').code).toBe(ErrorCode.InvalidParams);
  });
});
