import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../src/domain/index.js';
import { apiCore, type ApiUnderTest } from './support/api-core.js';

// Issue 15 item 1 through the decision API: an enforcer names the session; the session's earlier
// steps (with their findings) decide a later action; only an enforcer may name a session.
const POLICY = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: allow }
---
apiVersion: warden.dev/v1
kind: Policy
metadata: { name: flows, scope: acme }
spec:
  scan: { detectors: [secret], on: [input] }
  rules:
    - name: no-post-after-secret
      match: { actions: [tool.call], tools: ["http.*"] }
      when: 'session.history.exists(a, a.findings.exists(f, f.category == "secret"))'
      effect: deny
      message: A secret passed through this session.
`;

let api: ApiUnderTest;
beforeAll(async () => {
  api = await apiCore(POLICY);
});
afterAll(() => api?.close());

const decide = async (body: Record<string, unknown>, role: 'enforcer' | 'agent' = 'enforcer') =>
  api.app.inject({ method: 'POST', url: '/api/v1/decide', headers: api.auth(role), payload: { kind: 'tool.call', scope: 'acme/x', ...body } });

describe('session history through the decision API', () => {
  it('a secret in an earlier step of the session denies a later post; another session is clean', async () => {
    const step = { agent: { id: 'agent-1' }, principal: { id: 'bob' } };
    const first = await decide({ ...step, tool: { server: 'kv', name: 'kv.put' }, args: { value: 'ghp_R3aLl00kingT0kenAbCdEfGhIjKlMnOpQr12' }, session: { id: 's-1' } });
    expect(first.json<Decision>().effect).toBe('allow');
    const post = await decide({ ...step, tool: { server: 'http', name: 'http.post' }, args: { url: 'https://example.com' }, session: { id: 's-1' } });
    const d = post.json<Decision>();
    expect(d.effect).toBe('deny');
    expect(d.reasons[0]).toMatchObject({ rule: 'no-post-after-secret', steps: [{ tool: 'kv.put', eventId: first.json<Decision>().auditEventId }] });
    const other = await decide({ ...step, tool: { server: 'http', name: 'http.post' }, args: { url: 'https://example.com' }, session: { id: 's-2' } });
    expect(other.json<Decision>().effect).toBe('allow');
  });

  it('an agent may not name a session', async () => {
    const res = await decide({ tool: { server: 'http', name: 'http.post' }, session: { id: 's-1' } }, 'agent');
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'auth.assertion_refused' } });
  });
});
