import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type RemoteJWKSet } from 'jose';
import { WardenError, systemClock, type Clock } from '../domain/index.js';
import type { Credential } from './credential.js';
import type { BearerVerifier } from './identity-service.js';
import { MACHINE_ROLES, displayNameOf, grantsOf, tenantOf, type OidcRoleRule, type OidcTenantRule } from './oidc-claims.js';

export type { OidcRoleRule, OidcTenantRule } from './oidc-claims.js';

/**
 * Signature algorithms accepted from an issuer: asymmetric only. `none` and the HMAC family are never
 * accepted, so a token "signed" with the issuer's public key as an HMAC secret cannot pass.
 */
export const OIDC_ALGORITHMS = Object.freeze(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA', 'Ed25519'] as const);
export type OidcAlgorithm = (typeof OIDC_ALGORITHMS)[number];

/** How Warden trusts one OIDC issuer for people: where its keys are and how its claims become a credential. */
export interface OidcConfig {
  /** The issuer exactly as its tokens carry it in `iss` (and its discovery document in `issuer`). */
  issuer: string;
  /** The audience tokens for Warden are issued to: `aud` must hold one of these. */
  audience: string | readonly string[];
  /** The issuer's JWKS; without it, the `jwks_uri` of `${issuer}/.well-known/openid-configuration`. */
  jwksUri?: string | undefined;
  /**
   * Seconds of disagreement between the issuer's clock and ours tolerated on `exp`, `nbf` and `iat`.
   * @default 60
   */
  clockSkewSec?: number | undefined;
  /** The algorithms accepted; a subset of {@link OIDC_ALGORITHMS}, which is the default. */
  algorithms?: readonly OidcAlgorithm[] | undefined;
  tenant: OidcTenantRule;
  roles: readonly OidcRoleRule[];
}

export interface OidcVerifierOptions {
  /** The time tokens are checked at. @default systemClock */
  clock?: Clock;
  /** Timeout of each request to the issuer (discovery and JWKS), ms. @default 5000 */
  fetchTimeoutMs?: number;
  /** How long a fetched JWKS is used before it is fetched again, ms of wall time. @default 600000 */
  jwksCacheMaxAgeMs?: number;
  /**
   * After a JWKS fetch, how long a token signed with an unknown `kid` is refused without fetching
   * again, ms of wall time: key rotation is picked up, yet forged `kid`s cannot make us hammer the issuer.
   * @default 30000
   */
  jwksCooldownMs?: number;
}

/** Longer than any real JWT; refused before parsing. */
const MAX_TOKEN_CHARS = 16 * 1024;
const DEFAULT_SKEW_SEC = 60;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Keys are trusted for signatures, so they come over HTTPS; plain HTTP only to this machine (development, tests). */
function urlProblem(what: string, text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${what} \`${text}\` is not a URL`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return `${what} \`${text}\` must use https (plain http only for localhost)`;
}

/**
 * What is wrong with a configuration that its shape does not show, one sentence each; empty when
 * it is usable. `loadOidcConfig` and {@link createOidcVerifier} both refuse a configuration with problems.
 */
export function oidcConfigProblems(config: OidcConfig): string[] {
  const out: string[] = [];
  const issuerProblem = urlProblem('issuer', config.issuer);
  if (issuerProblem) out.push(issuerProblem);
  if (config.jwksUri !== undefined) {
    const p = urlProblem('jwksUri', config.jwksUri);
    if (p) out.push(p);
  }
  const audiences = typeof config.audience === 'string' ? [config.audience] : config.audience;
  if (audiences.length === 0 || audiences.some((a) => a === '')) out.push('audience must name at least one non-empty audience');
  const skew = config.clockSkewSec ?? DEFAULT_SKEW_SEC;
  if (!Number.isInteger(skew) || skew < 0 || skew > 600) out.push('clockSkewSec must be a whole number of seconds from 0 to 600');
  for (const alg of config.algorithms ?? []) if (!(OIDC_ALGORITHMS as readonly string[]).includes(alg)) out.push(`algorithm \`${alg}\` is not accepted; use asymmetric ones: ${OIDC_ALGORITHMS.join(', ')}`);
  if (config.algorithms?.length === 0) out.push('algorithms must not be empty (leave it out to accept every asymmetric algorithm)');
  if (config.roles.length === 0) out.push('roles must map at least one claim value to a role, or no token would authenticate');
  for (const [i, rule] of config.roles.entries()) {
    if (rule.grants.length === 0) out.push(`roles[${i}] (\`${rule.claim}\` = \`${rule.value}\`) grants nothing`);
    for (const g of rule.grants) {
      if (MACHINE_ROLES.includes(g.role)) out.push(`roles[${i}] grants \`${g.role}\`, a machine role; OIDC authenticates people, so use a Warden token for agents and enforcers`);
    }
  }
  return out;
}

function refused(message: string, help: string, cause?: unknown): WardenError {
  return new WardenError('auth.invalid_token', `the OIDC token ${message}`, cause === undefined ? { help } : { help, cause });
}

/** A header value safe to repeat in a message: the header is the caller's text, so anything odd is left out. */
function quoted(v: unknown): string {
  return typeof v === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(v) ? ` \`${v}\`` : '';
}

function isoOf(seconds: unknown): string {
  return typeof seconds === 'number' && Number.isFinite(seconds) && Math.abs(seconds) < 8.64e12 ? new Date(seconds * 1000).toISOString() : 'an invalid time';
}

/** Why a fetch from the issuer failed, as the rest of a sentence about the URL fetched. */
function fetchFailure(e: unknown): string {
  if (e instanceof errors.JWKSTimeout || (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError'))) return 'timed out';
  if (e instanceof errors.JWKSInvalid) return 'did not answer a JSON Web Key Set';
  if (e instanceof SyntaxError) return 'did not answer JSON';
  if (e instanceof errors.JOSEError) return e.message.startsWith('Expected 200') ? 'did not answer 200 OK' : 'did not answer JSON';
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : undefined;
  const code = cause && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  return code ? `could not be reached (${code})` : 'could not be reached';
}

/** Why the issuer's keys are unavailable, as the rest of a sentence about the issuer. */
class KeysUnavailable extends Error {}

/**
 * A verifier of bearer JWTs from one OIDC issuer. The issuer's discovery document is fetched once
 * (when no `jwksUri` is configured) and its JWKS is cached; an unknown `kid` fetches the JWKS again at
 * most once per cooldown. Every failure, including an issuer that cannot be reached, refuses the token.
 * @throws WardenError `config.invalid` when {@link oidcConfigProblems} finds a problem.
 */
export function createOidcVerifier(config: OidcConfig, opts: OidcVerifierOptions = {}): BearerVerifier {
  const problems = oidcConfigProblems(config);
  if (problems.length > 0) throw new WardenError('config.invalid', `OIDC configuration: ${problems.join('; ')}`);
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.fetchTimeoutMs ?? 5000;
  const skewSec = config.clockSkewSec ?? DEFAULT_SKEW_SEC;
  const algorithms = [...(config.algorithms ?? OIDC_ALGORITHMS)];
  const audience = typeof config.audience === 'string' ? config.audience : [...config.audience];
  const audiences = typeof audience === 'string' ? [audience] : audience;
  const issuerName = `\`${config.issuer}\``;

  const discover = async (): Promise<URL> => {
    const url = `${config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const unavailable = (why: string) => new KeysUnavailable(`its discovery document ${url} ${why}`);
    let doc: unknown;
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
      if (res.status !== 200) throw unavailable(`answered HTTP ${res.status}`);
      doc = await res.json();
    } catch (e) {
      throw e instanceof KeysUnavailable ? e : unavailable(fetchFailure(e));
    }
    const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
    // OpenID Connect Discovery 1.0 §4.3: the document must name the very issuer it was fetched for.
    if (d['issuer'] !== config.issuer) throw unavailable('names another issuer');
    const jwksUri = d['jwks_uri'];
    if (typeof jwksUri !== 'string') throw unavailable('has no `jwks_uri`');
    const problem = urlProblem('its `jwks_uri`', jwksUri);
    if (problem) throw unavailable(`is unusable: ${problem}`);
    return new URL(jwksUri);
  };

  // The key set, once its URL is known; a failed discovery is forgotten so the next token retries it.
  let keySet: Promise<RemoteJWKSet> | undefined;
  let jwksUrl: string | undefined;
  const remoteKeys = (url: URL) => {
    jwksUrl = url.href;
    return createRemoteJWKSet(url, { timeoutDuration: timeoutMs, cacheMaxAge: opts.jwksCacheMaxAgeMs ?? 600_000, cooldownDuration: opts.jwksCooldownMs ?? 30_000 });
  };
  const keys = () => {
    keySet ??= (config.jwksUri !== undefined ? Promise.resolve(new URL(config.jwksUri)) : discover()).then(remoteKeys, (e: unknown) => {
      keySet = undefined;
      throw e;
    });
    return keySet;
  };

  const keysUnavailable = (e: unknown) => {
    const why = e instanceof KeysUnavailable ? e.message : `its JWKS ${jwksUrl ?? 'URL'} ${fetchFailure(e)}`;
    return refused(`cannot be checked: the signing keys of issuer ${issuerName} could not be fetched (${why})`, 'tokens are refused until they can be; check the issuer URL in the OIDC configuration, the network, and the issuer', e);
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      const jwks = await keys();
      return await jwks(header, token);
    } catch (e) {
      if (e instanceof errors.JWKSNoMatchingKey) {
        throw refused(`is signed with a key${quoted(header.kid)} that issuer ${issuerName} does not publish (unknown signing key)`, 'get a new token from the issuer; if it rotated its keys just now, retry in a minute');
      }
      if (e instanceof errors.JWKSMultipleMatchingKeys) throw refused(`names no key id (\`kid\`) and issuer ${issuerName} publishes several keys it could be`, 'the issuer must put `kid` in its token headers');
      if (e instanceof errors.JOSENotSupported) throw refused(`is signed with a key of issuer ${issuerName} that Warden cannot use`, `accepted algorithms: ${algorithms.join(', ')}`, e);
      throw keysUnavailable(e);
    }
  };

  const translate = (e: unknown, bearer: string): WardenError => {
    if (e instanceof WardenError) return e;
    if (e instanceof errors.JWTExpired) {
      return refused(`expired at ${isoOf(e.payload.exp)} (clock skew allowed: ${skewSec} s)`, 'sign in again to get a fresh token');
    }
    if (e instanceof errors.JWTClaimValidationFailed) {
      if (e.reason === 'missing') return refused(`has no \`${e.claim}\` claim, which Warden requires`, 'Warden needs `iss`, `aud`, `sub`, `exp` and `iat` in every token');
      if (e.reason === 'invalid') return refused(`has a \`${e.claim}\` claim of the wrong type`, 'the issuer must send NumericDate (seconds) times');
      switch (e.claim) {
        case 'iss':
          return refused(`was issued by another issuer, not ${issuerName} (wrong issuer)`, 'get a token from the issuer Warden trusts');
        case 'aud':
          return refused(`is for another audience (wrong audience): Warden accepts ${audiences.map((a) => `\`${a}\``).join(', ')}`, 'request a token for the audience Warden is configured with');
        case 'nbf':
          return refused(`is not valid before ${isoOf(e.payload.nbf)} (not yet valid; clock skew allowed: ${skewSec} s)`, "check this machine's clock and the issuer's");
        default:
          return refused(`failed its \`${e.claim}\` check`, 'get a new token from the issuer');
      }
    }
    if (e instanceof errors.JOSEAlgNotAllowed) {
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(bearer).alg;
      } catch {
        alg = undefined;
      }
      return refused(`is signed with an algorithm${quoted(alg)} that Warden does not accept`, `accepted: ${algorithms.join(', ')}; \`none\` and HMAC (HS*) never are`);
    }
    if (e instanceof errors.JWSSignatureVerificationFailed) return refused(`has a signature that does not verify with issuer ${issuerName}'s key`, 'the token was altered or not signed by the issuer; get a new one');
    if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return refused('is not a well-formed signed JWT', 'send the token exactly as the issuer gave it', e);
    if (e instanceof errors.JOSENotSupported) return refused('uses a JOSE feature Warden does not support', 'the issuer must sign plain JWTs (no `crit` extensions)', e);
    return refused('could not be verified', 'get a new token from the issuer', e);
  };

  const credentialOf = (payload: JWTPayload): Credential => {
    const claims = payload as Record<string, unknown>;
    const now = clock.now().getTime() / 1000;
    // jose checks `iat` is a number; one in the future is a token from a broken or lying issuer.
    if (typeof payload.iat === 'number' && payload.iat > now + skewSec) {
      throw refused(`was issued in the future, at ${isoOf(payload.iat)} (clock skew allowed: ${skewSec} s)`, "check this machine's clock and the issuer's");
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '' || sub.length > 255) throw refused('has a `sub` claim that is not a subject id (1 to 255 characters)', 'the issuer must identify the person in `sub`');
    return {
      tenantId: tenantOf(claims, config.tenant),
      method: 'oidc',
      id: sub,
      name: displayNameOf(claims, sub),
      grants: grantsOf(claims, config.roles),
      principal: sub,
      expiresAt: isoOf(payload.exp),
      // When the person last proved who they are (OIDC Core `auth_time`); `iat` is not it: a silently
      // refreshed token is new without any sign-in. Approvals that ask for re-authentication need it.
      ...(typeof claims.auth_time === 'number' ? { authenticatedAt: isoOf(claims.auth_time) } : {}),
    };
  };

  return {
    async verify(bearer) {
      if (bearer.length > MAX_TOKEN_CHARS) throw refused(`is longer than ${MAX_TOKEN_CHARS} characters`, 'send the token exactly as the issuer gave it');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(bearer, getKey, {
          issuer: config.issuer,
          audience,
          algorithms,
          clockTolerance: skewSec,
          currentDate: clock.now(),
          requiredClaims: ['exp', 'iat', 'sub'],
        }));
      } catch (e) {
        throw translate(e, bearer);
      }
      return credentialOf(payload);
    },
  };
}
