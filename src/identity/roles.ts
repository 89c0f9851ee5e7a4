import { Type, type Static } from '@sinclair/typebox';

import { ROLES, type Role } from '../domain/index.js';

export { ROLES, type Role };
export const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));

/** What each role is for, as docs/api.md prints it. */
export const ROLE_PURPOSE: Record<Role, string> = {
  owner: 'everything in its scope, including creating owners',
  admin: 'everything in its scope except granting `owner`',
  policy_author: 'reads policies and the registry; writes policies (managed policies)',
  approver: 'answers approval requests',
  auditor: 'reads the audit log including captured call bodies, destinations and checkpoints',
  analyst: 'reads the audit log without captured bodies; works abuse cases',
  viewer: 'reads policies, the registry and its own identity',
  agent: "an agent's own credential: decides as that agent, nothing else",
  enforcer: 'a gateway or SDK host: decides for the principals, agents and times it asserts',
};

/**
 * Roles a role may grant to a new credential: nobody grants more than they hold, and only an owner
 * makes owners. Machine roles are granted by owners and admins.
 */
export const GRANTABLE: Record<Role, readonly Role[]> = {
  owner: ROLES,
  admin: ROLES.filter((r) => r !== 'owner'),
  policy_author: [],
  approver: [],
  auditor: [],
  analyst: [],
  viewer: [],
  agent: [],
  enforcer: [],
};

/** A role held at a scope; `scope` undefined means the whole tenant. */
export const GrantSchema = Type.Object({ role: RoleSchema, scope: Type.Optional(Type.String({ maxLength: 512 })) }, { additionalProperties: false });
export type Grant = Static<typeof GrantSchema>;

/** True when `scope` is `within` itself or below it; an undefined `within` is the whole tenant. */
export function scopeCovers(within: string | undefined, scope: string | undefined): boolean {
  if (within === undefined) return true;
  if (scope === undefined) return false;
  return scope === within || scope.startsWith(`${within}/`);
}

/** The grants that hold at `scope` (roles are inherited downwards); at `undefined`, only tenant-wide grants. */
export function grantsAt(grants: readonly Grant[], scope: string | undefined): Grant[] {
  return grants.filter((g) => scopeCovers(g.scope, scope));
}

/** True when one of `roles` is held at `scope` or above it. */
export function holdsAt(grants: readonly Grant[], roles: readonly Role[], scope: string | undefined): boolean {
  return grantsAt(grants, scope).some((g) => roles.includes(g.role));
}

/**
 * The widest scopes at which any of `roles` is held: what a reader with these grants may see. An
 * empty list means none; a list holding `undefined` means the whole tenant.
 */
export function readableScopes(grants: readonly Grant[], roles: readonly Role[]): (string | undefined)[] {
  const held = grants.filter((g) => roles.includes(g.role)).map((g) => g.scope);
  if (held.includes(undefined)) return [undefined];
  // Drop a scope another one covers.
  return [...new Set(held)].filter((s, _, all) => !all.some((o) => o !== s && scopeCovers(o, s)));
}
