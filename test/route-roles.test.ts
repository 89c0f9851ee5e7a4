import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, ROUTE_ACCESS, type Role } from '../src/identity/index.js';
import { withRouteTable } from '../scripts/gen-api-docs.js';
import { apiCore, operator, type ApiUnderTest } from './support/api-core.js';

// Issue 12: one authorization table in code (route x role), printed by docs/api.md; this walks every
// route with every role and checks the answer against it, and every route without a token.
let api: ApiUnderTest;
beforeAll(async () => {
  api = await apiCore('apiVersion: warden.dev/v1\nkind: ScopeSettings\nmetadata: { scope: acme }\nspec: { defaultEffect: allow }\n');
});
afterAll(() => api?.close());

/** A concrete URL for a route pattern; ids name nothing, so an allowed call changes nothing. */
function concrete(url: string): string {
  return url
    .replace(':name', 'siem')
    .replace(':id', 'ffffffffffff')
    .replace(':server', 'files')
    .replace(':tool', 'read')
    .replace('*', 'acme/route-roles');
}

// Each route from its own address: the failed-authentication limit counts per address and a success
// does not reset it, so the unauthenticated probes of every route must not add up on one.
const addresses = new Map<string, string>();
const addressOf = (url: string) => {
  if (!addresses.has(url)) addresses.set(url, `10.1.${Math.floor(addresses.size / 250)}.${(addresses.size % 250) + 1}`);
  return addresses.get(url)!;
};
const call = (method: string, url: string, headers: Record<string, string> = {}) =>
  api.app.inject({ method: method as 'GET', url: concrete(url), remoteAddress: addressOf(`${method} ${url}`), headers: { ...headers, ...(method === 'GET' || method === 'DELETE' ? {} : { 'content-type': 'application/json' }) }, ...(method === 'GET' || method === 'DELETE' ? {} : { payload: '{}' }) });

const gateRefusal = (res: { statusCode: number; json(): unknown }) => {
  if (res.statusCode !== 403) return false;
  const body = res.json() as { error?: { code?: string; message?: string } };
  return body.error?.code === 'auth.forbidden' && /needs one of the roles|not in the authorization table/.test(body.error.message ?? '');
};

describe('the route x role table', () => {
  for (const route of ROUTE_ACCESS) {
    it(`${route.method} ${route.url}: 401 without a token, and each role as the table says`, async () => {
      const bare = await call(route.method, route.url);
      expect(bare.statusCode).toBe(401);
      expect(bare.json()).toMatchObject({ error: { code: 'auth.required' } });
      expect(bare.headers['www-authenticate']).toBe('Bearer realm="warden"');
      const forged = await call(route.method, route.url, { authorization: 'Bearer wdn_000000000000_00000000000000000000000000000000000000000000000000' });
      expect(forged.statusCode).toBe(401);
      for (const role of ROLES) {
        const res = await call(route.method, route.url, api.auth(role));
        const allowed = route.roles.includes(role);
        expect(res.statusCode, `${role}: ${res.body.slice(0, 200)}`).not.toBe(401);
        expect(gateRefusal(res), `${role} ${allowed ? 'may' : 'may not'} call it: ${res.statusCode} ${res.body.slice(0, 200)}`).toBe(!allowed);
      }
    });
  }

  it('every refusal by the gate is audited with the actor', async () => {
    await api.core.flush();
    const denied = await api.core.auditLog.list({ type: 'auth.route.denied', limit: 1000 });
    const expected = ROUTE_ACCESS.reduce((n, r) => n + ROLES.filter((role) => !r.roles.includes(role)).length, 0);
    expect(denied.events.length).toBe(expected);
    expect(denied.events[0]).toMatchObject({ category: 'auth', outcome: 'denied', actor: { authMethod: 'token', id: expect.stringMatching(/^token:[0-9a-f]{12}$/) }, target: { kind: 'route' } });
  });

  it('an expired token, a revoked one and a malformed header are 401', async () => {
    const role: Role = 'viewer';
    const soon = await api.core.identity.createToken(operator(), { name: 'short', role, expiresAt: new Date(Date.now() + 1500).toISOString() });
    expect((await call('GET', '/api/v1/whoami', { authorization: `Bearer ${soon.token}` })).statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    const expired = await call('GET', '/api/v1/whoami', { authorization: `Bearer ${soon.token}` });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.message).toContain('expired');
    const gone = await api.core.identity.createToken(operator(), { name: 'gone', role });
    await api.core.identity.revokeToken(operator(), gone.info.id);
    expect((await call('GET', '/api/v1/whoami', { authorization: `Bearer ${gone.token}` })).json().error.message).toContain('revoked');
    for (const header of ['Basic abc', 'Bearer', `Bearer ${gone.token} extra`, `bearer ${'x'.repeat(5000)}`]) {
      expect((await call('GET', '/api/v1/whoami', { authorization: header })).statusCode).toBe(401);
    }
    // A token text with a bad check digit is refused without a lookup.
    const tampered = `${soon.token.slice(0, -1)}${soon.token.endsWith('0') ? '1' : '0'}`;
    expect((await call('GET', '/api/v1/whoami', { authorization: `Bearer ${tampered}` })).statusCode).toBe(401);
  });

  it('limits failed authentications per address: 429 with Retry-After, other addresses unaffected', async () => {
    const from = (remoteAddress: string, authorization: string) => api.app.inject({ url: '/api/v1/whoami', remoteAddress, headers: { authorization } });
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await from('10.9.9.9', 'Bearer wdn_nope')).statusCode);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    const limited = await from('10.9.9.9', 'Bearer wdn_nope');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('auth.rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Even a good token waits: the address is over its limit, whoever it is.
    expect((await from('10.9.9.9', api.auth('viewer').authorization)).statusCode).toBe(429);
    expect((await from('10.9.9.10', api.auth('viewer').authorization)).statusCode).toBe(200);
  });

  it('docs/api.md prints the same table', () => {
    const page = readFileSync(join(import.meta.dirname, '..', 'docs', 'api.md'), 'utf8');
    expect(page, 'docs/api.md is stale: run `npx tsx scripts/gen-api-docs.ts`').toBe(withRouteTable(page));
  });
});
