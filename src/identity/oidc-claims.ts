import { WardenError } from '../domain/index.js';
import { TENANT_ID_PATTERN } from './records.js';
import type { Grant, Role } from './roles.js';

/** Where an OIDC token's tenant comes from: one of its claims, or one fixed tenant for the whole issuer. */
export type OidcTenantRule = { claim: string } | { value: string };

/** The grants a token receives when its `claim` equals `value`, or is a list of strings holding it. */
export interface OidcRoleRule {
  claim: string;
  value: string;
  grants: readonly Grant[];
}

/** Roles only machines hold: OIDC authenticates people, so no rule may grant these. */
export const MACHINE_ROLES: readonly Role[] = Object.freeze(['agent', 'enforcer']);

const TENANT_ID = new RegExp(TENANT_ID_PATTERN);

function refused(message: string, help: string): WardenError {
  return new WardenError('auth.invalid_token', `the OIDC token ${message}`, { help });
}

/**
 * The value at `path` in the claims: the claim of that exact name if there is one (namespaced claims
 * such as `https://example.com/groups` hold dots), else the dotted path walked through nested objects
 * (`realm_access.roles`). Only own properties count, so `__proto__` and friends are never read.
 */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let at: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** True when the claim is `value`, or is a list holding it; other shapes never match. */
function claimHolds(claim: unknown, value: string): boolean {
  return claim === value || (Array.isArray(claim) && claim.includes(value));
}

/** The tenant the token belongs to. @throws WardenError `auth.invalid_token` when it has none. */
export function tenantOf(claims: Readonly<Record<string, unknown>>, rule: OidcTenantRule): string {
  if ('value' in rule) return rule.value;
  const v = claimAt(claims, rule.claim);
  if (v === undefined) throw refused(`has no \`${rule.claim}\` claim, which names its tenant`, `ask the identity provider's administrator to add the \`${rule.claim}\` claim to tokens issued for Warden`);
  // The claim's value is the caller's text: it is described, never echoed.
  if (typeof v !== 'string' || !TENANT_ID.test(v)) {
    throw refused(`has a claim \`${rule.claim}\` that is not a tenant id (a string of lowercase letters, digits and dashes)`, "the identity provider's claim must hold the Warden tenant id itself");
  }
  return v;
}

/**
 * Every grant the rules give these claims, each grant once.
 * @throws WardenError `auth.invalid_token` when no rule matches: a person with no role has nothing to do here.
 */
export function grantsOf(claims: Readonly<Record<string, unknown>>, rules: readonly OidcRoleRule[]): Grant[] {
  const out = new Map<string, Grant>();
  for (const rule of rules) {
    if (!claimHolds(claimAt(claims, rule.claim), rule.value)) continue;
    for (const g of rule.grants) out.set(`${g.role}\u0000${g.scope ?? ''}`, g.scope === undefined ? { role: g.role } : { role: g.role, scope: g.scope });
  }
  if (out.size === 0) {
    const claimNames = [...new Set(rules.map((r) => `\`${r.claim}\``))].join(', ');
    throw refused(`maps to no Warden role: none of its ${claimNames} claim values is one the OIDC configuration grants a role to`, 'ask an administrator to add you to a group the OIDC configuration maps to a role');
  }
  return [...out.values()];
}

/** Longest display name kept; a name is for people to read, not a place to store text. */
const MAX_NAME = 200;

/** `name`, else `email`, else `preferred_username`, else the subject. */
export function displayNameOf(claims: Readonly<Record<string, unknown>>, sub: string): string {
  for (const key of ['name', 'email', 'preferred_username']) {
    const v = claims[key];
    if (typeof v === 'string' && v.trim() !== '') return v.trim().slice(0, MAX_NAME);
  }
  return sub;
}
