import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { startServer, type RunningServer } from '../src/main/index.js';

// OIDC end to end: `warden serve --oidc FILE` accepts a person's JWT from a local issuer the test runs
// (its discovery document and JWKS), maps it to a tenant and roles, and names the subject as the actor.
let issuer: Server;
let issuerUrl: string;
let server: RunningServer;
let sign: (claims: JWTPayload) => Promise<string>;
let foreign: (claims: JWTPayload) => Promise<string>;

beforeAll(async () => {
  const key = await generateKeyPair('ES256', { extractable: true });
  const other = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  issuer = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: issuerUrl, jwks_uri: `${issuerUrl}/jwks` }));
    if (req.url === '/jwks') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => issuer.listen(0, '127.0.0.1', r));
  issuerUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
  const base = (claims: JWTPayload): JWTPayload => ({ iss: issuerUrl, aud: 'warden', sub: 'ada', org: 'acme', groups: ['payments-audit'], name: 'Ada', ...claims });
  const timed = (jwt: SignJWT, claims: JWTPayload) => (claims.exp === undefined ? jwt.setIssuedAt().setExpirationTime('10m') : jwt);
  sign = (claims) => timed(new SignJWT(base(claims)).setProtectedHeader({ alg: 'ES256', kid: 'k1' }), claims).sign(key.privateKey);
  foreign = (claims) => new SignJWT(base(claims)).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt().setExpirationTime('10m').sign(other.privateKey);

  const dir = mkdtempSync(join(tmpdir(), 'warden-oidc-api-'));
  writeFileSync(join(dir, 'p.yaml'), 'apiVersion: warden.dev/v1\nkind: ScopeSettings\nmetadata: { scope: acme }\nspec: { defaultEffect: allow }\n');
  writeFileSync(
    join(dir, 'oidc.yaml'),
    `apiVersion: warden.dev/v1\nkind: OidcProvider\nspec:\n  issuer: ${issuerUrl}\n  audience: warden\n  tenant: { claim: org }\n  roles:\n    - { claim: groups, value: payments-audit, grants: [{ role: auditor, scope: acme/payments }] }\n`,
  );
  const config = loadConfig({ policies: [join(dir, 'p.yaml')], port: 0, dataDir: join(dir, 'data'), checkpointInterval: 0, watch: false, oidc: join(dir, 'oidc.yaml') }, {});
  server = await startServer(config, { logger: pino({ level: 'silent' }) });
  await server.core.identity.createTenant(undefined, { id: 'acme', name: 'Acme' });
  // Events in the tenant: one in the auditor's scope, one outside it.
  const enforcer = await server.core.identity.createToken({ tenantId: 'acme', method: 'local', id: 't', name: 't', grants: [{ role: 'owner' }] }, { name: 'gw', role: 'enforcer' });
  for (const scope of ['acme/payments', 'acme/web']) {
    const res = await fetch(`${server.url}/api/v1/decide`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${enforcer.token}` }, body: JSON.stringify({ kind: 'tool.call', scope, agent: { id: 'a1' }, tool: { server: 'files', name: 'files.read' } }) });
    expect(res.status).toBe(200);
  }
}, 60_000);
afterAll(async () => {
  await server?.close();
  issuer?.close();
});

const get = (path: string, bearer: string) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });

describe('warden serve --oidc', () => {
  it("signs a person in with the issuer's JWT and gives them the mapped role at the mapped scope", async () => {
    const jwt = await sign({});
    const me = (await (await get('/api/v1/whoami', jwt)).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ tenantId: 'acme', method: 'oidc', id: 'ada', name: 'Ada', grants: [{ role: 'auditor', scope: 'acme/payments' }] });
    const page = (await (await get('/api/v1/audit/events?category=decision', jwt)).json()) as { events: { scope: string; tenantId: string }[] };
    expect(page.events.map((e) => [e.tenantId, e.scope])).toEqual([['acme', 'acme/payments']]);
  });

  it('names the subject as the actor of what it is refused', async () => {
    const res = await get('/api/v1/tokens', await sign({}));
    expect(res.status).toBe(403);
    await server.core.flush();
    const denied = await server.core.auditLog.list({ tenant: 'acme', type: 'auth.route.denied', limit: 5 });
    expect(denied.events[0]).toMatchObject({ actor: { id: 'oidc:ada', authMethod: 'oidc', name: 'Ada' } });
  });

  it('refuses a token of an unknown tenant, an expired one, a wrong audience and a key not in the JWKS', async () => {
    for (const [what, jwt] of [
      ['unknown tenant', await sign({ org: 'globex' })],
      ['expired', await sign({ exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 })],
      ['wrong audience', await sign({ aud: 'someone-else' })],
      ['wrong issuer', await sign({ iss: 'https://evil.example' })],
      ['foreign key', await foreign({})],
    ] as const) {
      const res = await get('/api/v1/whoami', jwt);
      expect(res.status, what).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code, what).toBe('auth.invalid_token');
    }
  });
});
