import { WardenError, newAuditEvent, type AuditSink, type Clock } from '../domain/index.js';
import { actorOf, type Credential } from './credential.js';
import { GRANTABLE, holdsAt, readableScopes, scopeCovers, type Role } from './roles.js';
import type { IdentityStore, NewToken, ScopeNode, Tenant, TokenInfo, TokenRow } from './records.js';
import { hashToken, newTokenSecret, seededTokenId, tokenIdOf, tokenMatches } from './token-secret.js';

/** Verifies a bearer text that is not a Warden token (a JWT from the configured OIDC issuer). */
export interface BearerVerifier {
  verify(bearer: string): Promise<Credential>;
}

export interface IdentityDeps {
  store: IdentityStore;
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
  /** OIDC for people; without it only Warden tokens authenticate. */
  oidc?: BearerVerifier | undefined;
  /**
   * How long a successful token lookup is reused, ms on `clock`. Revocation reaches every replica
   * within this time (plus the query), so it stays well under a second.
   * @default 500
   */
  cacheMs?: number;
}

/** A gateway file's static agent token, to import as an `agent` token ({@link IdentityService.seedAgentToken}). */
export interface AgentTokenSeed {
  tenantId: string;
  agentId: string;
  /** The file's bearer text (at least 16 characters); only its SHA-256 is stored. */
  token: string;
  /** The person or service the agent acts for. */
  principal?: string | undefined;
  /** The grant's scope: where the agent may act; undefined is the whole tenant. */
  scope?: string | undefined;
  /** The file it came from, named in the audit event (`details.seededFrom`). */
  source: string;
}

/**
 * What importing one seed did: `imported` wrote the token; `present` found this very text already
 * imported (a restart, or another replica); `skipped` left it out because the store already holds
 * tokens of the agent, which win over the file.
 */
export type AgentTokenSeedResult = { outcome: 'imported' | 'present'; info: TokenInfo } | { outcome: 'skipped'; reason: string };

/** Shortest bearer text a file may hold: as the gateway config requires. */
const MIN_SEED_LENGTH = 16;
/** Longest bearer text looked up by hash: longer ones are refused without a query. */
const MAX_BEARER_LENGTH = 4096;

/** A token as created: the secret is in `token` and nowhere else, ever. */
export interface CreatedToken {
  token: string;
  info: TokenInfo;
}

export interface IdentityService {
  /**
   * The credential behind an `Authorization: Bearer` text.
   * @throws WardenError `auth.invalid_token` when it is unknown, malformed, revoked or expired.
   */
  authenticate(bearer: string): Promise<Credential>;
  /** @throws WardenError `auth.forbidden` when the actor may not grant that role at that scope; `identity.tenant_not_found`. */
  createToken(actor: Credential, input: Omit<NewToken, 'tenantId'>): Promise<CreatedToken>;
  /** The tenant's tokens granted at scopes where the actor may manage tokens. */
  listTokens(actor: Credential): Promise<TokenInfo[]>;
  /** @throws WardenError `identity.token_not_found` (also for another tenant's id), `auth.forbidden`. */
  revokeToken(actor: Credential, id: string): Promise<TokenInfo>;
  /** A new secret with the same grants; the old token is revoked at once. */
  rotateToken(actor: Credential, id: string): Promise<CreatedToken>;
  createTenant(actor: Credential | undefined, t: { id: string; name: string }): Promise<{ tenant: Tenant; created: boolean }>;
  /**
   * The installation's first owner token (tenant `default`), created on the first start of a fresh
   * database and never again (even once revoked): undefined when it exists already.
   */
  bootstrap(deliver: (token: string) => Promise<void>): Promise<CreatedToken | undefined>;
  getTenant(id: string): Promise<Tenant | undefined>;
  /**
   * Suspends a tenant (every credential of it stops working within the cache time) or reactivates it.
   * @throws WardenError `identity.tenant_not_found`.
   */
  setTenantStatus(actor: Credential, id: string, status: Tenant['status']): Promise<Tenant>;
  listTenants(): Promise<Tenant[]>;
  putScope(actor: Credential, node: { path: string; owner?: string | null | undefined; description?: string | null | undefined }): Promise<ScopeNode>;
  listScopes(tenantId: string): Promise<ScopeNode[]>;
  /** Of `ids`, the tokens no longer valid (revoked, expired or gone): live sessions holding them are cut. */
  invalidTokens(ids: readonly string[]): Promise<string[]>;
  /**
   * Imports a gateway file's static agent token as an `agent` token of the tenant, once: only when
   * the store holds no token of that agent yet (revoked and expired ones count, so a revoked seed is
   * never brought back by a restart). The row keeps the text's SHA-256 and a fixed id
   * (`seededTokenId`), so it authenticates, lists, revokes and rotates like any other token, and
   * two replicas starting together import it once. Audited as `identity.token.created` with
   * `details.seededFrom`.
   * @throws WardenError `config.invalid` when the text is too short, is a `wdn_` token of another
   * agent or is already another agent's token; `identity.tenant_not_found`.
   */
  seedAgentToken(seed: AgentTokenSeed): Promise<AgentTokenSeedResult>;
}

/** The bootstrap token's id: fixed, so it is created once per installation, ever. */
const BOOTSTRAP_ID = '000000000000';

// C0 and C1 controls and DEL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Roles that manage tokens. */
const TOKEN_ADMINS: readonly Role[] = ['owner', 'admin'];

const KINDS: ScopeNode['kind'][] = ['org', 'group', 'subgroup', 'project'];

function infoOf(row: TokenRow): TokenInfo {
  const { hash: _hash, ...info } = row;
  return info;
}

function forbidden(message: string, help?: string): WardenError {
  return new WardenError('auth.forbidden', message, help ? { help } : {});
}

function notFound(id: string): WardenError {
  return new WardenError('identity.token_not_found', `no token \`${id}\` in this tenant`, { help: '`warden token list` shows the tokens you may manage' });
}

export function createIdentityService(deps: IdentityDeps): IdentityService {
  const ttl = deps.cacheMs ?? 500;
  const cache = new Map<string, { at: number; cred: Credential }>();
  const nowIso = () => deps.clock.now().toISOString();

  const audit = async (actor: Credential | undefined, type: Parameters<typeof newAuditEvent>[0]['type'], tenantId: string, scope: string, target: { kind: 'token' | 'tenant' | 'scope'; name: string }, details: Record<string, unknown>) => {
    await deps.audit.append([
      newAuditEvent(
        {
          tenantId,
          scope,
          category: 'admin',
          type,
          severity: 'medium',
          outcome: 'success',
          actor: actor ? actorOf(actor) : { type: 'system', id: 'warden' },
          target,
          details,
        },
        deps.clock.now(),
      ),
    ]);
  };

  const ownToken = async (actor: Credential, id: string): Promise<TokenRow> => {
    const row = await deps.store.findToken(id);
    // Another tenant's token is indistinguishable from a missing one.
    if (!row || row.tenantId !== actor.tenantId) throw notFound(id);
    if (!holdsAt(actor.grants, TOKEN_ADMINS, row.scope ?? undefined)) throw notFound(id);
    // Only an owner takes an owner's token away: an admin must not leave the tenant without owners.
    if (row.role === 'owner' && !holdsAt(actor.grants, ['owner'], row.scope ?? undefined)) throw forbidden(`token \`${row.prefix}\` is an owner's: only an owner may revoke or rotate it`);
    return row;
  };

  const mint = async (actor: Credential, input: NewToken, fixedId?: string): Promise<CreatedToken | undefined> => {
    const tenant = await deps.store.getTenant(input.tenantId);
    if (!tenant) throw new WardenError('identity.tenant_not_found', `no tenant \`${input.tenantId}\``, { help: 'create it first: `warden tenant create ID --name NAME`' });
    if (!holdsAt(actor.grants, TOKEN_ADMINS, input.scope)) {
      throw forbidden(`granting a role at ${input.scope ? `scope \`${input.scope}\`` : 'the whole tenant'} needs \`owner\` or \`admin\` there`);
    }
    const grantable = new Set(actor.grants.filter((g) => scopeCovers(g.scope, input.scope)).flatMap((g) => GRANTABLE[g.role]));
    if (!grantable.has(input.role)) throw forbidden(`your roles may not grant \`${input.role}\``, 'only an `owner` grants `owner`');
    for (const [field, value] of [['name', input.name], ['agent', input.agentId], ['principal', input.principal]] as const) {
      // Names are printed by `warden token list` and shown in consoles: no terminal escapes, no line breaks.
      if (value !== undefined && (value === '' || value.length > 256 || CONTROL.test(value))) throw new WardenError('request.invalid', `the token's ${field} must be 1 to 256 characters without control characters`);
    }
    if (input.role === 'agent' && !input.agentId) throw new WardenError('request.invalid', 'an `agent` token names the agent it acts as', { help: 'pass `--agent ID` (API: `agentId`)' });
    if (input.role !== 'agent' && input.agentId) throw new WardenError('request.invalid', 'only an `agent` token names an agent');
    if (input.expiresAt !== undefined && Date.parse(input.expiresAt) <= deps.clock.now().getTime()) throw new WardenError('request.invalid', 'the expiry is in the past');
    const secret = fixedId !== undefined ? newTokenSecret(fixedId) : newTokenSecret();
    const row: TokenRow = {
      id: secret.id,
      tenantId: input.tenantId,
      name: input.name,
      prefix: secret.prefix,
      role: input.role,
      scope: input.scope ?? null,
      agentId: input.agentId ?? null,
      principal: input.principal ?? (input.role === 'agent' ? null : input.name),
      createdAt: nowIso(),
      createdBy: actorOf(actor).id,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
      hash: secret.hash,
    };
    if (!(await deps.store.insertToken(row))) {
      if (fixedId !== undefined) return undefined;
      throw new WardenError('internal', 'a freshly drawn token id is taken');
    }
    return { token: secret.token, info: infoOf(row) };
  };
  const mintNew = async (actor: Credential, input: NewToken): Promise<CreatedToken> => (await mint(actor, input))!;

  const notWardenToken = () => new WardenError('auth.invalid_token', 'the bearer token is not a valid Warden token', { help: 'tokens look like `wdn_…`; create one with `warden token create`' });

  /** An OIDC JWT: the issuer vouches for the person, Warden decides whether the tenant it names may act. */
  const viaOidc = async (oidc: BearerVerifier, bearer: string): Promise<Credential> => {
    const cred = await oidc.verify(bearer);
    const tenant = await deps.store.getTenant(cred.tenantId);
    if (!tenant || tenant.status !== 'active') throw new WardenError('auth.invalid_token', 'the OIDC token names a tenant that does not exist here or is not active', { help: 'an installation operator creates tenants with `warden tenant create`' });
    return cred;
  };

  /** A Warden token (`wdn_…`, by id) or one imported from a gateway file (by its hash, on an index). */
  const viaToken = async (bearer: string, id: string | undefined, now: number): Promise<Credential> => {
    if (id === undefined && (bearer.length < MIN_SEED_LENGTH || bearer.length > MAX_BEARER_LENGTH)) throw notWardenToken();
    const row = id !== undefined ? await deps.store.findToken(id) : await deps.store.findTokenByHash(hashToken(bearer));
    const invalid = (why: string) => {
      cache.delete(bearer);
      return new WardenError('auth.invalid_token', `the bearer token ${why}`, { help: 'ask an owner or admin for a new token (`warden token create`)' });
    };
    if (!row && id === undefined) throw notWardenToken();
    if (!row || !tokenMatches(bearer, row.hash)) throw invalid('is not known');
    if (row.revokedAt !== null) throw invalid('was revoked');
    if (row.expiresAt !== null && Date.parse(row.expiresAt) <= now) throw invalid('has expired');
    const tenant = await deps.store.getTenant(row.tenantId);
    if (!tenant || tenant.status !== 'active') throw invalid("belongs to a tenant that is not active");
    // When a token was last used tells owners which ones are stale; a minute's precision is plenty.
    if (row.lastUsedAt === null || now - Date.parse(row.lastUsedAt) > 60_000) void deps.store.touchToken(row.id, new Date(now).toISOString()).catch(() => {});
    return {
      tenantId: row.tenantId,
      method: 'token',
      id: row.id,
      name: row.name,
      grants: [{ role: row.role, ...(row.scope !== null ? { scope: row.scope } : {}) }],
      principal: row.principal ?? undefined,
      agentId: row.agentId ?? undefined,
      expiresAt: row.expiresAt ?? undefined,
    };
  };


  return {
    async authenticate(bearer) {
      const now = deps.clock.now().getTime();
      // One cache for both kinds: an OIDC token is not verified (nor its tenant read) on every request either.
      const hit = cache.get(bearer);
      if (hit && now >= hit.at && now - hit.at < ttl && (hit.cred.expiresAt === undefined || Date.parse(hit.cred.expiresAt) > now)) return hit.cred;
      const id = tokenIdOf(bearer);
      const cred = id === undefined && deps.oidc && bearer.split('.').length === 3 ? await viaOidc(deps.oidc, bearer) : await viaToken(bearer, id, now);
      if (cache.size > 10_000) cache.clear();
      cache.set(bearer, { at: now, cred });
      return cred;
    },

    async createToken(actor, input) {
      const created = await mintNew(actor, { ...input, tenantId: actor.tenantId });
      await audit(actor, 'identity.token.created', actor.tenantId, input.scope ?? actor.tenantId, { kind: 'token', name: created.info.prefix }, { role: created.info.role, scope: created.info.scope, name: created.info.name, agentId: created.info.agentId, expiresAt: created.info.expiresAt });
      return created;
    },

    async listTokens(actor) {
      const scopes = readableScopes(actor.grants, TOKEN_ADMINS);
      const all = await deps.store.listTokens(actor.tenantId);
      return all.filter((t) => scopes.some((s) => scopeCovers(s, t.scope ?? undefined)));
    },

    async revokeToken(actor, id) {
      const row = await ownToken(actor, id);
      const at = nowIso();
      await deps.store.revokeToken(actor.tenantId, id, at);
      await audit(actor, 'identity.token.revoked', actor.tenantId, row.scope ?? actor.tenantId, { kind: 'token', name: row.prefix }, { role: row.role, scope: row.scope, name: row.name, alreadyRevoked: row.revokedAt !== null });
      for (const [k, v] of cache) if (v.cred.id === id) cache.delete(k);
      return infoOf({ ...row, revokedAt: row.revokedAt ?? at });
    },

    async rotateToken(actor, id) {
      const row = await ownToken(actor, id);
      const revoked = () => new WardenError('identity.token_revoked', `token \`${row.prefix}\` is revoked and cannot be rotated`, { help: 'create a new token instead' });
      if (row.revokedAt !== null) throw revoked();
      if (row.expiresAt !== null && Date.parse(row.expiresAt) <= deps.clock.now().getTime()) throw new WardenError('identity.token_revoked', `token \`${row.prefix}\` has expired and cannot be rotated`, { help: 'create a new token instead' });
      // Revoke first, and only the caller whose revocation took effect mints the successor: two
      // concurrent rotations (or a rotation racing a revocation) never leave two live tokens.
      if (!(await deps.store.revokeToken(actor.tenantId, id, nowIso()))) throw revoked();
      for (const [k, v] of cache) if (v.cred.id === id) cache.delete(k);
      const created = await mintNew(actor, {
        tenantId: row.tenantId,
        name: row.name,
        role: row.role,
        scope: row.scope ?? undefined,
        agentId: row.agentId ?? undefined,
        principal: row.principal ?? undefined,
        expiresAt: row.expiresAt ?? undefined,
      });
      await audit(actor, 'identity.token.rotated', actor.tenantId, row.scope ?? actor.tenantId, { kind: 'token', name: row.prefix }, { replacedBy: created.info.prefix, role: row.role, scope: row.scope, name: row.name });
      return created;
    },

    async createTenant(actor, t) {
      const createdAt = nowIso();
      const created = await deps.store.createTenant({ id: t.id, name: t.name, createdAt });
      if (created) {
        await audit(actor, 'identity.tenant.created', t.id, t.id, { kind: 'tenant', name: t.id }, { name: t.name });
      }
      return { tenant: (await deps.store.getTenant(t.id))!, created };
    },

    async bootstrap(deliver) {
      // A fixed id: of two replicas starting on one fresh database, exactly one inserts it.
      const system: Credential = { tenantId: 'default', method: 'local', id: 'bootstrap', name: 'warden serve', grants: [{ role: 'owner' }] };
      const created = await mint(system, { tenantId: 'default', name: 'bootstrap', role: 'owner', principal: 'bootstrap' }, BOOTSTRAP_ID);
      if (!created) return undefined;
      try {
        await deliver(created.token);
      } catch (err) {
        // Nobody holds the secret: take the token back, so the next start makes (and delivers) a new one.
        await deps.store.deleteToken(BOOTSTRAP_ID);
        throw err;
      }
      await audit(undefined, 'identity.token.created', 'default', 'default', { kind: 'token', name: created.info.prefix }, { role: 'owner', scope: null, name: 'bootstrap', bootstrap: true });
      return created;
    },

    getTenant: (id) => deps.store.getTenant(id),

    async setTenantStatus(actor, id, status) {
      const before = await deps.store.getTenant(id);
      if (!before || !(await deps.store.setTenantStatus(id, status))) throw new WardenError('identity.tenant_not_found', `no tenant \`${id}\``, { help: '`warden tenant list` shows them' });
      await audit(actor, status === 'suspended' ? 'identity.tenant.suspended' : 'identity.tenant.resumed', id, id, { kind: 'tenant', name: id }, { previousStatus: before.status });
      cache.clear();
      return { ...before, status };
    },
    listTenants: () => deps.store.listTenants(),

    async putScope(actor, node) {
      if (!holdsAt(actor.grants, TOKEN_ADMINS, node.path)) throw forbidden(`changing scope \`${node.path}\` needs \`owner\` or \`admin\` there`);
      const depth = node.path.split('/').length;
      const kind = KINDS[Math.min(depth, KINDS.length) - 1]!;
      const existing = (await deps.store.listScopes(actor.tenantId)).find((s) => s.path === node.path);
      const next = { path: node.path, kind, owner: node.owner !== undefined ? node.owner : (existing?.owner ?? null), description: node.description !== undefined ? node.description : (existing?.description ?? null), updatedAt: nowIso() };
      await deps.store.putScope(actor.tenantId, next);
      await audit(actor, 'identity.scope.updated', actor.tenantId, node.path, { kind: 'scope', name: node.path }, { owner: next.owner, description: next.description, previous: existing ? { owner: existing.owner, description: existing.description } : null });
      return next;
    },

    listScopes: (tenantId) => deps.store.listScopes(tenantId),

    invalidTokens: (ids) => (ids.length === 0 ? Promise.resolve([]) : deps.store.invalidTokens(ids, nowIso())),

    async seedAgentToken(seed) {
      const refuse = (why: string) => new WardenError('config.invalid', `the token of agent \`${seed.agentId}\` in \`${seed.source}\` ${why}`, { help: 'give each agent a token of its own, or manage its tokens with `warden token create --agent ID`' });
      const wdn = tokenIdOf(seed.token);
      const existing = wdn !== undefined ? await deps.store.findToken(wdn) : seed.token.length >= MIN_SEED_LENGTH ? await deps.store.findTokenByHash(hashToken(seed.token)) : undefined;
      if (existing && tokenMatches(seed.token, existing.hash)) {
        // Seeded before (a restart), or a store token the file repeats: nothing to import.
        if (existing.tenantId === seed.tenantId && existing.agentId === seed.agentId) return { outcome: 'present', info: infoOf(existing) };
        throw refuse("is already another agent's token");
      }
      if (wdn !== undefined) throw refuse('is a `wdn_` token the store does not hold: such tokens are created with `warden token create`, not imported');
      if (seed.token.length < MIN_SEED_LENGTH) throw refuse(`is shorter than ${MIN_SEED_LENGTH} characters`);
      if (!(await deps.store.getTenant(seed.tenantId))) throw new WardenError('identity.tenant_not_found', `no tenant \`${seed.tenantId}\``, { help: 'create it first: `warden tenant create ID --name NAME`' });
      const held = (await deps.store.listTokens(seed.tenantId)).filter((t) => t.agentId === seed.agentId);
      if (held.length > 0) return { outcome: 'skipped', reason: `the store already holds ${held.length === 1 ? 'a token' : `${held.length} tokens`} of agent \`${seed.agentId}\` (${held.map((t) => t.prefix).join(', ')}), and the store's tokens win over the file` };
      const tokenId = seededTokenId(seed.tenantId, seed.agentId);
      const row: TokenRow = {
        id: tokenId,
        tenantId: seed.tenantId,
        name: seed.agentId,
        prefix: `wdn_${tokenId}`,
        role: 'agent',
        scope: seed.scope ?? null,
        agentId: seed.agentId,
        principal: seed.principal ?? null,
        createdAt: nowIso(),
        createdBy: `file:${seed.source}`,
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
        hash: hashToken(seed.token),
      };
      if (!(await deps.store.insertToken(row))) {
        // Another replica imported it a moment ago: the same id, or the same text.
        const now = (await deps.store.findToken(tokenId)) ?? (await deps.store.findTokenByHash(row.hash));
        if (now && now.tenantId === seed.tenantId && now.agentId === seed.agentId && tokenMatches(seed.token, now.hash)) return { outcome: 'present', info: infoOf(now) };
        return { outcome: 'skipped', reason: `the store already holds a token of agent \`${seed.agentId}\`${now ? ` (${now.prefix})` : ''}, and the store's tokens win over the file` };
      }
      const info = infoOf(row);
      await audit(undefined, 'identity.token.created', seed.tenantId, seed.scope ?? seed.tenantId, { kind: 'token', name: info.prefix }, { role: 'agent', scope: info.scope, name: info.name, agentId: seed.agentId, expiresAt: null, seededFrom: seed.source });
      return { outcome: 'imported', info };
    },
  };
}
