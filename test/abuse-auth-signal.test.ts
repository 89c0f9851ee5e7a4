import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiCore, type ApiUnderTest } from './support/api-core.js';
import { fakeClock } from './support/fake-clock.js';

// Failed authentications reach the abuse rules as `auth.token.failed` signals (never the audit log):
// the default pack's `auth-failures` rule (shadow) sees a slow credential-stuffing run that the
// per-address limiter (20 a minute) lets through a minute at a time.

const POLICY = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: p, scope: acme }
spec:
  rules:
    - { name: all, effect: allow, match: { actions: [tool.call] } }
`;

describe('failed authentications as abuse signals', () => {
  let api: ApiUnderTest;
  const clock = fakeClock('2026-12-07T10:00:00.000Z');
  beforeAll(async () => {
    api = await apiCore(POLICY, { clock });
  });
  afterAll(async () => {
    await api?.close();
  });

  const bad = (ip: string) => api.app.inject({ method: 'GET', url: '/api/v1/whoami', remoteAddress: ip, headers: { authorization: 'Bearer wdn_nottherealtoken0000000000000000' } });

  it('30 bad tokens from one address in 10 minutes are one shadowed auth-failures hit; spread over addresses they are none', async () => {
    for (let i = 0; i < 20; i++) expect((await bad('203.0.113.7')).statusCode).toBe(401);
    expect((await bad('203.0.113.7')).statusCode).toBe(429);
    for (let i = 0; i < 29; i++) expect((await bad(`198.51.100.${i + 1}`)).statusCode).toBe(401);
    clock.advance(61_000);
    for (let i = 0; i < 10; i++) expect((await bad('203.0.113.7')).statusCode).toBe(401);
    await api.core.abuse.engine.idle();
    await api.core.flush();
    const page = await api.core.auditLog.list({ tenant: 'default', limit: 1000 });
    const shadowed = page.events.filter((e) => e.type === 'abuse.verdict.shadowed');
    expect(shadowed.map((e) => [e.details!.rule, (e.details!.entities as { ip?: string }).ip])).toEqual([['auth-failures', '203.0.113.7']]);
    // The failures themselves are not in the log.
    expect(page.events.filter((e) => e.type === 'auth.token.failed')).toEqual([]);
  });
});
