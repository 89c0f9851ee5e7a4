// The public surface of identity: tenants, tokens, roles per scope, the route x role table.
export { ROLES, RoleSchema, GrantSchema, GRANTABLE, ROLE_PURPOSE, scopeCovers, grantsAt, holdsAt, readableScopes } from './roles.js';
export type { Role, Grant } from './roles.js';
export { actorOf, personOf } from './credential.js';
export type { Credential } from './credential.js';
export { ABUSE_ACTORS, ABUSE_READERS, AUDIT_BODY_READERS, GRAPHQL_READS, ROUTE_ACCESS, accessOf, mayCall, renderRouteTable } from './access.js';
export type { GraphqlRead, RouteAccess } from './access.js';
export { TenantSchema, ScopeNodeSchema, TokenInfoSchema, TENANT_ID_PATTERN } from './records.js';
export type { Tenant, ScopeNode, TokenInfo, TokenRow, NewToken, IdentityStore } from './records.js';
export { newTokenSecret, tokenIdOf, hashToken, tokenMatches, seededTokenId } from './token-secret.js';
export { createIdentityService } from './identity-service.js';
export type { IdentityService, IdentityDeps, CreatedToken, BearerVerifier, AgentTokenSeed, AgentTokenSeedResult } from './identity-service.js';
export { createOidcVerifier, oidcConfigProblems, OIDC_ALGORITHMS } from './oidc.js';
export type { OidcConfig, OidcVerifierOptions, OidcAlgorithm, OidcRoleRule, OidcTenantRule } from './oidc.js';
export { createAuthFailureLimiter, rateLimitedError, clientKeyOf } from './auth-failures.js';
export type { AuthFailureLimiter, AuthFailureLimiterOptions } from './auth-failures.js';
