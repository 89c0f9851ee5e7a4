import { sql, type Kysely, type Transaction } from 'kysely';
import { WardenError } from '../domain/index.js';
import type { ActiveCheck, ActiveSource, NewVersion, PolicyRecord, PolicyRepo, PolicyVersion, Review, VersionStatus } from '../policies/records.js';
import { releaseOf } from '../policies/release.js';
import type { Schema } from './schema.js';
import { withTenant } from './tenant-scope.js';

const iso = (d: Date | string | null): string | null => (d === null ? null : (d instanceof Date ? d : new Date(d)).toISOString());

/** The channel a release change is announced on (PostgreSQL NOTIFY, delivered at commit); the payload is the tenant id. */
export const POLICY_CHANNEL = 'warden_policies';

interface PolicyRow {
  name: string;
  scopes: string[];
  active_version: number | null;
  latest_version: number;
  archived_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

interface VersionRow {
  name: string;
  number: number;
  source: string;
  hash: string;
  path: string;
  author: string;
  created_at: Date | string;
  status: VersionStatus;
  rollback_of: number | null;
  submitted_by: string | null;
  submitted_at: Date | string | null;
  activated_by: string | null;
  activated_at: Date | string | null;
}

interface ReviewRow {
  number: number;
  reviewer: string;
  verdict: 'approve' | 'comment';
  comment: string | null;
  created_at: Date | string;
}

function stale(name: string, expected: number | null | undefined, latest: number | undefined): WardenError {
  const saw = expected === null ? 'that it did not exist yet' : `version ${String(expected)}`;
  const is = latest === undefined ? 'it does not exist' : `its latest version is ${latest}`;
  return new WardenError('policy.stale', `policy \`${name}\` changed since the writer saw ${saw}: ${is}`, {
    help: 'read the policy again (`GET /api/v1/policies/{name}` gives its `ETag`), merge your change, and send it with that `If-Match`',
  });
}

function toPolicy(r: PolicyRow): PolicyRecord {
  return {
    name: r.name,
    source: 'managed',
    scopes: r.scopes,
    activeVersion: r.active_version,
    latestVersion: r.latest_version,
    archived: r.archived_at !== null,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

function toVersion(r: VersionRow, reviews: readonly ReviewRow[]): PolicyVersion {
  const v: PolicyVersion = {
    name: r.name,
    number: r.number,
    hash: r.hash,
    path: r.path,
    author: r.author,
    createdAt: iso(r.created_at)!,
    status: r.status,
    reviews: reviews.map((x) => ({ reviewer: x.reviewer, verdict: x.verdict, ...(x.comment !== null ? { comment: x.comment } : {}), createdAt: iso(x.created_at)! })),
    source: r.source,
  };
  if (r.rollback_of !== null) v.rollbackOf = r.rollback_of;
  if (r.submitted_by !== null) v.submittedBy = r.submitted_by;
  if (r.submitted_at !== null) v.submittedAt = iso(r.submitted_at)!;
  if (r.activated_by !== null) v.activatedBy = r.activated_by;
  if (r.activated_at !== null) v.activatedAt = iso(r.activated_at)!;
  return v;
}

const VERSION_COLUMNS = sql.raw('name, number, source, hash, path, author, created_at, status, rollback_of, submitted_by, submitted_at, activated_by, activated_at');

/**
 * Serializes the changes of one tenant's active set: the release row is created if missing and
 * locked, so a second activation waits for the first to commit and then checks against it.
 */
async function lockRelease(trx: Transaction<Schema>, tenantId: string, now: Date): Promise<void> {
  await sql`INSERT INTO policy_releases (tenant_id, release, changed_at) VALUES (${tenantId}, ${releaseOf([])}, ${now.toISOString()}) ON CONFLICT (tenant_id) DO NOTHING`.execute(trx);
  await sql`SELECT release FROM policy_releases WHERE tenant_id = ${tenantId} FOR UPDATE`.execute(trx);
}

/** The tenant's release recomputed from its active versions (checked first), stored, and announced to every replica. */
async function bumpRelease(trx: Transaction<Schema>, tenantId: string, now: Date, check: ActiveCheck | undefined): Promise<string> {
  const { rows } = await sql<{ name: string; number: number; hash: string; path: string; source: string }>`
    SELECT name, number, hash, path, source FROM policy_versions WHERE tenant_id = ${tenantId} AND status = 'active' ORDER BY name`.execute(trx);
  check?.(rows.map((r) => ({ tenantId, ...r })));
  const release = releaseOf(rows);
  await sql`INSERT INTO policy_releases (tenant_id, release, changed_at) VALUES (${tenantId}, ${release}, ${now.toISOString()})
            ON CONFLICT (tenant_id) DO UPDATE SET release = EXCLUDED.release, changed_at = EXCLUDED.changed_at`.execute(trx);
  await sql`SELECT pg_notify(${POLICY_CHANNEL}, ${tenantId})`.execute(trx);
  return release;
}

/** Locks the policy's row and checks the writer's `If-Match`; undefined when it does not exist. */
async function lockLatest(trx: Transaction<Schema>, tenantId: string, name: string, expect: number | null | undefined): Promise<number | undefined> {
  const { rows } = await sql<{ latest_version: number }>`
    SELECT latest_version FROM policies WHERE tenant_id = ${tenantId} AND name = ${name} FOR UPDATE`.execute(trx);
  const latest = rows[0]?.latest_version;
  if (expect === undefined) return latest;
  if (expect === null ? latest !== undefined : latest !== expect) throw stale(name, expect, latest);
  return latest;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string } | undefined)?.code === '23505';

/**
 * Managed policies of every tenant. Each call runs in `withTenant`, so row-level security confines
 * it to the tenant named, as every repository's filter does; `activeSources()` and `releases()`
 * without a tenant read across tenants by design (every replica compiles every tenant's set).
 */
export function createPolicyRepo(db: Kysely<Schema>): PolicyRepo {
  return {
    async list(tenantId) {
      return withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<PolicyRow>`SELECT * FROM policies WHERE tenant_id = ${tenantId} ORDER BY name`.execute(trx);
        return rows.map(toPolicy);
      });
    },

    async get(tenantId, name) {
      return withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<PolicyRow>`SELECT * FROM policies WHERE tenant_id = ${tenantId} AND name = ${name}`.execute(trx);
        return rows[0] ? toPolicy(rows[0]) : undefined;
      });
    },

    async versions(tenantId, name) {
      return withTenant(db, tenantId, async (trx) => {
        const versions = await sql<VersionRow>`SELECT ${VERSION_COLUMNS} FROM policy_versions WHERE tenant_id = ${tenantId} AND name = ${name} ORDER BY number`.execute(trx);
        const reviews = await sql<ReviewRow>`SELECT number, reviewer, verdict, comment, created_at FROM policy_reviews WHERE tenant_id = ${tenantId} AND name = ${name} ORDER BY created_at, reviewer`.execute(trx);
        return versions.rows.map((v) => toVersion(v, reviews.rows.filter((r) => r.number === v.number)));
      });
    },

    async version(tenantId, name, n) {
      return withTenant(db, tenantId, async (trx) => {
        const versions = await sql<VersionRow>`SELECT ${VERSION_COLUMNS} FROM policy_versions WHERE tenant_id = ${tenantId} AND name = ${name} AND number = ${n}`.execute(trx);
        if (!versions.rows[0]) return undefined;
        const reviews = await sql<ReviewRow>`SELECT number, reviewer, verdict, comment, created_at FROM policy_reviews WHERE tenant_id = ${tenantId} AND name = ${name} AND number = ${n} ORDER BY created_at, reviewer`.execute(trx);
        return toVersion(versions.rows[0], reviews.rows);
      });
    },

    async createVersion(tenantId, v: NewVersion, check) {
      try {
        return await withTenant(db, tenantId, async (trx) => {
          if (v.status === 'active') await lockRelease(trx, tenantId, v.now);
          const latest = await lockLatest(trx, tenantId, v.name, v.expectLatest);
          const number = (latest ?? 0) + 1;
          const now = v.now.toISOString();
          const scopes = sql`string_to_array(${[...v.scopes].join('\n')}, ${'\n'})::text[]`;
          if (latest === undefined) {
            await sql`INSERT INTO policies (tenant_id, name, scopes, active_version, latest_version, archived_at, created_at, updated_at)
                      VALUES (${tenantId}, ${v.name}, ${scopes}, NULL, ${number}, NULL, ${now}, ${now})`.execute(trx);
          } else {
            await sql`UPDATE policies SET latest_version = ${number}, updated_at = ${now} WHERE tenant_id = ${tenantId} AND name = ${v.name}`.execute(trx);
          }
          if (v.status === 'active') {
            await sql`UPDATE policy_versions SET status = 'superseded' WHERE tenant_id = ${tenantId} AND name = ${v.name} AND status = 'active'`.execute(trx);
          }
          await sql`INSERT INTO policy_versions (tenant_id, name, number, source, hash, path, author, created_at, status, rollback_of, activated_by, activated_at)
                    VALUES (${tenantId}, ${v.name}, ${number}, ${v.source}, ${v.hash}, ${v.path}, ${v.author}, ${now}, ${v.status}, ${v.rollbackOf ?? null},
                            ${v.status === 'active' ? v.author : null}, ${v.status === 'active' ? now : null})`.execute(trx);
          if (v.status !== 'active') return { number, release: undefined };
          await sql`UPDATE policies SET active_version = ${number}, scopes = ${scopes}, archived_at = NULL WHERE tenant_id = ${tenantId} AND name = ${v.name}`.execute(trx);
          return { number, release: await bumpRelease(trx, tenantId, v.now, check) };
        });
      } catch (err) {
        // Two first versions of one name at once: the loser saw "does not exist" and is now stale.
        if (isUniqueViolation(err)) throw stale(v.name, v.expectLatest, undefined);
        throw err;
      }
    },

    async transition(tenantId, name, n, from, to, by, now) {
      return withTenant(db, tenantId, async (trx) => {
        const submitted = to === 'in_review' ? sql`, submitted_by = ${by}, submitted_at = ${now.toISOString()}` : sql``;
        const r = await sql`UPDATE policy_versions SET status = ${to} ${submitted}
                            WHERE tenant_id = ${tenantId} AND name = ${name} AND number = ${n} AND status = ANY(string_to_array(${from.join(',')}, ','))`.execute(trx);
        return Number(r.numAffectedRows ?? 0) === 1;
      });
    },

    async review(tenantId, name, n, r: Review) {
      await withTenant(db, tenantId, async (trx) => {
        await sql`INSERT INTO policy_reviews (tenant_id, name, number, reviewer, verdict, comment, created_at)
                  VALUES (${tenantId}, ${name}, ${n}, ${r.reviewer}, ${r.verdict}, ${r.comment ?? null}, ${r.createdAt})
                  ON CONFLICT DO NOTHING`.execute(trx);
      });
    },

    async activate(tenantId, name, n, from, by, now, expectLatest, check) {
      return withTenant(db, tenantId, async (trx) => {
        await lockRelease(trx, tenantId, now);
        const latest = await lockLatest(trx, tenantId, name, expectLatest);
        if (latest === undefined) throw stale(name, expectLatest, undefined);
        const { rows } = await sql<{ status: VersionStatus }>`
          SELECT status FROM policy_versions WHERE tenant_id = ${tenantId} AND name = ${name} AND number = ${n} FOR UPDATE`.execute(trx);
        const status = rows[0]?.status;
        if (status === undefined || !from.includes(status)) {
          throw new WardenError('policy.conflict', `version ${n} of policy \`${name}\` is ${status ?? 'missing'}, so it cannot be activated`, { help: 'a version is activated once, from review (or from draft where no review is required)' });
        }
        await sql`UPDATE policy_versions SET status = 'superseded' WHERE tenant_id = ${tenantId} AND name = ${name} AND status = 'active'`.execute(trx);
        await sql`UPDATE policy_versions SET status = 'active', activated_by = ${by}, activated_at = ${now.toISOString()} WHERE tenant_id = ${tenantId} AND name = ${name} AND number = ${n}`.execute(trx);
        await sql`UPDATE policies SET active_version = ${n}, archived_at = NULL, updated_at = ${now.toISOString()} WHERE tenant_id = ${tenantId} AND name = ${name}`.execute(trx);
        return { release: await bumpRelease(trx, tenantId, now, check) };
      });
    },

    async archive(tenantId, name, _by, now, expectLatest, check) {
      return withTenant(db, tenantId, async (trx) => {
        await lockRelease(trx, tenantId, now);
        const latest = await lockLatest(trx, tenantId, name, expectLatest);
        if (latest === undefined) throw stale(name, expectLatest, undefined);
        await sql`UPDATE policy_versions SET status = 'archived' WHERE tenant_id = ${tenantId} AND name = ${name} AND status IN ('active', 'draft', 'in_review')`.execute(trx);
        await sql`UPDATE policies SET active_version = NULL, archived_at = ${now.toISOString()}, updated_at = ${now.toISOString()} WHERE tenant_id = ${tenantId} AND name = ${name}`.execute(trx);
        return { release: await bumpRelease(trx, tenantId, now, check) };
      });
    },

    async activeSources(tenantId?: string): Promise<ActiveSource[]> {
      const only = tenantId === undefined ? sql`` : sql`AND tenant_id = ${tenantId}`;
      const { rows } = await sql<{ tenant_id: string; name: string; number: number; hash: string; path: string; source: string }>`
        SELECT tenant_id, name, number, hash, path, source FROM policy_versions WHERE status = 'active' ${only} ORDER BY tenant_id, name`.execute(db);
      return rows.map((r) => ({ tenantId: r.tenant_id, name: r.name, number: r.number, hash: r.hash, path: r.path, source: r.source }));
    },

    async releases() {
      const { rows } = await sql<{ tenant_id: string; release: string }>`SELECT tenant_id, release FROM policy_releases`.execute(db);
      return new Map(rows.map((r) => [r.tenant_id, r.release]));
    },
  };
}
