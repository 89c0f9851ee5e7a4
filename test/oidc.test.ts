import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWardenError } from '../src/domain/index.js';
import { createOidcVerifier, type OidcConfig, type OidcVerifierOptions } from '../src/identity/index.js';
import { fakeClock } from './support/fake-clock.js';

/** A local OIDC issuer: a discovery document and a JWKS of keys the test generates, each request counted. */
interface Issuer {
  url: string;
  /** The JWKS served now; replace it to rotate keys. */
  keys: JWK[];
  /** Answered instead of 200 when set. */
  failWith?: number | undefined;
  /** What the discovery document claims as its issuer (the real one unless a test lies). */
  claimedIssuer?: string | undefined;
  requests: { discovery: number; jwks: number };
  server: Server;
}

async function startIssuer(): Promise<Issuer> {
  const issuer = { keys: [], requests: { discovery: 0, jwks: 0 } } as unknown as Issuer;
  issuer.server = createServer((req, res) => {
    const reply = (body: unknown) => {
      if (issuer.failWith) return res.writeHead(issuer.failWith).end('unavailable');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      issuer.requests.discovery++;
      return reply({ issuer: issuer.claimedIssuer ?? issuer.url, jwks_uri: `${issuer.url}/jwks`, id_token_signing_alg_values_supported: ['RS256', 'ES256'] });
    }
    if (req.url === '/jwks') {
      issuer.requests.jwks++;
      return reply({ keys: issuer.keys });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => issuer.server.listen(0, '127.0.0.1', resolve));
  issuer.url = `http://127.0.0.1:${(issuer.server.address() as AddressInfo).port}`;
  return issuer;
}

const T0 = '2026-03-01T10:00:00.000Z';
const now0 = Date.parse(T0) / 1000;

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string, alg: 'RS256' | 'ES256' | 'EdDSA'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

let issuer: Issuer;
let k1: SigningKey;
let k2: SigningKey;
let rogue: SigningKey;

const configOf = (overrides: Partial<OidcConfig> = {}): OidcConfig => ({
  issuer: issuer.url,
  audience: 'warden',
  tenant: { claim: 'org' },
  roles: [
    { claim: 'groups', value: 'warden-admins', grants: [{ role: 'admin' }] },
    { claim: 'groups', value: 'payments-audit', grants: [{ role: 'auditor', scope: 'acme/payments' }] },
    { claim: 'realm_access.roles', value: 'approver', grants: [{ role: 'approver', scope: 'acme/payments' }] },
  ],
  ...overrides,
});

/** A token as the issuer would sign it at T0, valid for an hour; `claims` override or (undefined) remove. */
async function token(claims: JWTPayload = {}, key: SigningKey = k1, header: Record<string, unknown> = {}): Promise<string> {
  const payload: JWTPayload = { iss: issuer.url, aud: 'warden', sub: 'user-1', org: 'acme', groups: ['warden-admins'], name: 'Ada Lovelace', iat: now0, exp: now0 + 3600, ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Expects `auth.invalid_token` with a message matching `pattern` and never holding the token. */
async function expectRefused(p: Promise<unknown>, bearer: string, pattern: RegExp): Promise<string> {
  const e: unknown = await p.then(
    () => new Error('the token was accepted'),
    (err: unknown) => err,
  );
  if (!isWardenError(e)) throw e;
  expect(e.code).toBe('auth.invalid_token');
  expect(e.message).toMatch(pattern);
  for (const part of bearer.split('.').filter((s) => s.length > 8)) {
    expect(e.message).not.toContain(part);
    expect(e.help ?? '').not.toContain(part);
  }
  return e.message;
}

beforeAll(async () => {
  issuer = await startIssuer();
  [k1, k2, rogue] = await Promise.all([signingKey('k1', 'RS256'), signingKey('k2', 'ES256'), signingKey('rogue', 'RS256')]);
  issuer.keys = [k1.jwk];
});

afterAll(async () => {
  await new Promise((resolve) => issuer.server.close(resolve));
});

/** A verifier at the fake time T0 with the issuer's key set reset to k1 alone. */
function verifier(overrides: Partial<OidcConfig> = {}, opts: OidcVerifierOptions = {}) {
  issuer.keys = [k1.jwk];
  issuer.failWith = undefined;
  issuer.claimedIssuer = undefined;
  return createOidcVerifier(configOf(overrides), { clock: fakeClock(T0), ...opts });
}

describe('OIDC verifier: a valid token', () => {
  it('becomes a credential with the grants its claims map to', async () => {
    const v = verifier();
    const cred = await v.verify(await token({ groups: ['warden-admins', 'payments-audit', 'unrelated'], realm_access: { roles: ['approver'] } }));
    expect(cred).toEqual({
      tenantId: 'acme',
      method: 'oidc',
      id: 'user-1',
      name: 'Ada Lovelace',
      principal: 'user-1',
      expiresAt: new Date((now0 + 3600) * 1000).toISOString(),
      grants: [{ role: 'admin' }, { role: 'auditor', scope: 'acme/payments' }, { role: 'approver', scope: 'acme/payments' }],
    });
  });

  it('matches a claim that is a single string, and names the person by email, username, then subject', async () => {
    const v = verifier();
    expect(await v.verify(await token({ groups: 'payments-audit', name: undefined, email: 'ada@example.com' }))).toMatchObject({ name: 'ada@example.com', grants: [{ role: 'auditor', scope: 'acme/payments' }] });
    expect((await v.verify(await token({ name: undefined, preferred_username: 'ada' }))).name).toBe('ada');
    expect((await v.verify(await token({ name: undefined }))).name).toBe('user-1');
  });

  it('takes a fixed tenant when configured, and any of several audiences', async () => {
    const v = verifier({ tenant: { value: 'globex' }, audience: ['warden', 'warden-cli'] });
    expect(await v.verify(await token({ org: undefined, aud: ['other', 'warden-cli'] }))).toMatchObject({ tenantId: 'globex' });
  });

  it('accepts EdDSA keys', async () => {
    const ed = await signingKey('ed', 'EdDSA');
    const v = verifier();
    issuer.keys = [k1.jwk, ed.jwk];
    expect((await v.verify(await token({}, ed))).tenantId).toBe('acme');
  });
});

describe('OIDC verifier: time', () => {
  it('refuses an expired token, and one not yet valid', async () => {
    const v = verifier();
    const expired = await token({ iat: now0 - 7200, exp: now0 - 61 });
    await expectRefused(v.verify(expired), expired, /expired at 2026-03-01T09:58:59\.000Z/);
    const early = await token({ nbf: now0 + 120 });
    await expectRefused(v.verify(early), early, /not valid before 2026-03-01T10:02:00\.000Z \(not yet valid/);
    const future = await token({ iat: now0 + 600 });
    await expectRefused(v.verify(future), future, /issued in the future/);
  });

  it('accepts within the clock skew, and the skew is configurable', async () => {
    const v = verifier();
    await expect(v.verify(await token({ iat: now0 - 3600, exp: now0 - 30, nbf: now0 + 30 }))).resolves.toMatchObject({ id: 'user-1' });
    const strict = verifier({ clockSkewSec: 10 });
    const t = await token({ exp: now0 - 30 });
    await expectRefused(strict.verify(t), t, /expired .*clock skew allowed: 10 s/);
  });

  it('checks time on the injected clock, not the wall clock', async () => {
    const clock = fakeClock(T0);
    const v = createOidcVerifier(configOf(), { clock });
    const t = await token();
    await expect(v.verify(t)).resolves.toBeDefined();
    clock.advance(3_661_000);
    await expectRefused(v.verify(t), t, /expired/);
  });
});

describe('OIDC verifier: issuer, audience and claims', () => {
  it('refuses a wrong audience and a wrong issuer, naming which', async () => {
    const v = verifier();
    const aud = await token({ aud: 'someone-else' });
    await expectRefused(v.verify(aud), aud, /wrong audience.*`warden`/);
    const iss = await token({ iss: 'https://evil.example.com' });
    await expectRefused(v.verify(iss), iss, /wrong issuer/);
  });

  it('refuses a token without exp, sub or iat', async () => {
    const v = verifier();
    for (const claim of ['exp', 'sub', 'iat']) {
      const t = await token({ [claim]: undefined });
      await expectRefused(v.verify(t), t, new RegExp(`no \`${claim}\` claim`));
    }
  });

  it('refuses a token with no tenant claim or one that is not a tenant id', async () => {
    const v = verifier();
    const none = await token({ org: undefined });
    await expectRefused(v.verify(none), none, /no `org` claim, which names its tenant/);
    for (const org of [['acme'], 'ACME/../x', 42]) {
      const bad = await token({ org });
      await expectRefused(v.verify(bad), bad, /claim `org` that is not a tenant id/);
    }
  });

  it('refuses a token that maps to no role', async () => {
    const v = verifier();
    for (const claims of [{ groups: ['engineering'] }, { groups: undefined }, { groups: [{ name: 'warden-admins' }] }, { groups: 'warden-admins-2' }]) {
      const t = await token(claims);
      await expectRefused(v.verify(t), t, /maps to no Warden role/);
    }
  });

  it('reads a claim named with dots before walking a dotted path', async () => {
    const v = verifier({ roles: [{ claim: 'https://example.com/groups', value: 'ops', grants: [{ role: 'viewer' }] }] });
    expect((await v.verify(await token({ 'https://example.com/groups': ['ops'] }))).grants).toEqual([{ role: 'viewer' }]);
  });
});

describe('OIDC verifier: signatures and algorithms', () => {
  it('refuses a token signed by a key the issuer does not publish', async () => {
    const v = verifier();
    const t = await token({}, rogue);
    await expectRefused(v.verify(t), t, /key `rogue` that issuer .* does not publish \(unknown signing key\)/);
    // The same kid as a published key, but another key: the signature does not verify.
    const swapped = await token({}, { ...rogue, kid: 'k1' });
    await expectRefused(v.verify(swapped), swapped, /signature that does not verify/);
  });

  it('refuses HS256 signed with the public key as the secret', async () => {
    const v = verifier();
    const secret = new TextEncoder().encode(await exportSPKI(k1.publicKey));
    const t = await new SignJWT({ iss: issuer.url, aud: 'warden', sub: 'user-1', org: 'acme', groups: ['warden-admins'], iat: now0, exp: now0 + 3600 })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(secret);
    await expectRefused(v.verify(t), t, /algorithm `HS256` that Warden does not accept/);
  });

  it('refuses alg none, with or without a signature', async () => {
    const v = verifier();
    const claims = { iss: issuer.url, aud: 'warden', sub: 'user-1', org: 'acme', groups: ['warden-admins'], iat: now0, exp: now0 + 3600 };
    for (const alg of ['none', 'None', 'NONE']) {
      const t = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}.`;
      await expectRefused(v.verify(t), t, /algorithm `none`|algorithm `None`|algorithm `NONE`/);
    }
  });

  it('refuses an algorithm the configuration leaves out', async () => {
    const v = verifier({ algorithms: ['ES256'] });
    const t = await token();
    await expectRefused(v.verify(t), t, /algorithm `RS256`/);
  });

  it('refuses malformed and oversized bearers without echoing them', async () => {
    const v = verifier();
    for (const t of ['a.b.c', 'eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln', `${b64({ alg: 'RS256', kid: 'k1' })}.${b64([1, 2])}.c2lnbmF0dXJl`]) {
      await expectRefused(v.verify(t), t, /not a well-formed signed JWT|signature that does not verify/);
    }
    const long = `${b64({ alg: 'RS256' })}.${'A'.repeat(20_000)}.sig`;
    await expectRefused(v.verify(long), long, /longer than/);
  });
});

describe('OIDC verifier: keys from the issuer', () => {
  it('fetches the discovery document and the JWKS once for many verifications', async () => {
    const before = { ...issuer.requests };
    const v = verifier();
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => token({ sub: `user-${i}` })));
    // The first wave arrives together: one fetch serves them all.
    await Promise.all(tokens.slice(0, 10).map((t) => v.verify(t)));
    for (const t of tokens.slice(10)) await v.verify(t);
    expect(issuer.requests.discovery - before.discovery).toBe(1);
    expect(issuer.requests.jwks - before.jwks).toBe(1);
  });

  it('picks up a rotated key after the cooldown, and an unknown kid refetches at most once per cooldown', async () => {
    const v = verifier({}, { jwksCooldownMs: 300 });
    await v.verify(await token());
    const fetched = issuer.requests.jwks;
    issuer.keys = [k1.jwk, k2.jwk];
    const rotated = await token({}, k2);
    // Within the cooldown of the first fetch, an unknown kid does not reach the issuer.
    await expectRefused(v.verify(rotated), rotated, /unknown signing key/);
    expect(issuer.requests.jwks).toBe(fetched);
    await sleep(350);
    expect((await v.verify(rotated)).id).toBe('user-1');
    expect(issuer.requests.jwks).toBe(fetched + 1);
    // Forged kids now cost at most one fetch per cooldown.
    for (let i = 0; i < 5; i++) {
      const forged = await token({}, { ...rogue, kid: `forged-${i}` });
      await expectRefused(v.verify(forged), forged, /unknown signing key/);
    }
    expect(issuer.requests.jwks).toBe(fetched + 1);
  });

  it('uses a configured jwksUri without discovery', async () => {
    const before = issuer.requests.discovery;
    const v = verifier({ jwksUri: `${issuer.url}/jwks` });
    await v.verify(await token());
    expect(issuer.requests.discovery).toBe(before);
  });

  it('refuses every token while the issuer is down, and recovers when it is back', async () => {
    const v = verifier();
    issuer.failWith = 503;
    const t = await token();
    await expectRefused(v.verify(t), t, /signing keys of issuer .* could not be fetched \(.*HTTP 503\)/);
    const viaJwks = verifier({ jwksUri: `${issuer.url}/jwks` });
    issuer.failWith = 503;
    await expectRefused(viaJwks.verify(t), t, /could not be fetched \(its JWKS http:\/\/127\.0\.0\.1:\d+\/jwks did not answer 200 OK\)/);
    issuer.failWith = undefined;
    await expect(v.verify(t)).resolves.toMatchObject({ id: 'user-1' });
    await expect(viaJwks.verify(t)).resolves.toMatchObject({ id: 'user-1' });
  });

  it('refuses when the issuer cannot be reached at all', async () => {
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
    await new Promise((resolve) => gone.close(resolve));
    const t = await token({ iss: url });
    const v = createOidcVerifier(configOf({ issuer: url }), { clock: fakeClock(T0), fetchTimeoutMs: 2000 });
    await expectRefused(v.verify(t), t, /signing keys of issuer .* could not be fetched \(its discovery document .* could not be reached \(ECONNREFUSED\)\)/);
    const direct = createOidcVerifier(configOf({ issuer: url, jwksUri: `${url}/jwks` }), { clock: fakeClock(T0), fetchTimeoutMs: 2000 });
    await expectRefused(direct.verify(t), t, /could not be fetched \(its JWKS http:\/\/127\.0\.0\.1:\d+\/jwks could not be reached \(ECONNREFUSED\)\)/);
  });

  it('refuses when the discovery document names another issuer', async () => {
    const v = verifier();
    issuer.claimedIssuer = 'https://evil.example.com';
    const t = await token();
    await expectRefused(v.verify(t), t, /could not be fetched \(its discovery document .* names another issuer\)/);
  });
});
