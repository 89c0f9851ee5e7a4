import { sql, type Kysely } from 'kysely';
import type { ApprovalRepo } from '../approvals/ports.js';
import { approvalDigest, canonicalJson, WardenError, type ApprovalPolicy, type ApprovalRequest, type ApprovalStatus, type ApprovalSubject, type ApprovalVote } from '../domain/index.js';
import type { Schema } from './schema.js';
import { withTenant } from './tenant-scope.js';

type Time = Date | string;
const iso = (d: Time): string => (d instanceof Date ? d : new Date(d)).toISOString();

interface RequestRow {
  tenant_id: string;
  id: string;
  digest: string;
  status: ApprovalStatus;
  subject: string;
  policy: string;
  agent_owner: string | null;
  created_at: Time;
  expires_at: Time;
  decided_at: Time | null;
  confirmed_at: Time | null;
  consumed_at: Time | null;
}

interface VoteRow {
  request_id: string;
  principal: string;
  vote: 'approve' | 'deny';
  actor: string;
  name: string;
  comment: string | null;
  at: Time;
}

const COLUMNS = sql.raw('tenant_id, id, digest, status, subject, policy, agent_owner, created_at, expires_at, decided_at, confirmed_at, consumed_at');

/**
 * A row back as a request. The subject is stored as the canonical JSON its digest is over; a row
 * whose subject no longer hashes to its digest was changed behind Warden's back and is refused, so
 * approvers are never shown (and never release) something other than what was asked.
 */
function toRequest(r: RequestRow, votes: readonly VoteRow[]): ApprovalRequest {
  const subject = JSON.parse(r.subject) as ApprovalSubject;
  if (approvalDigest(subject) !== r.digest) {
    throw new WardenError('approval.tampered', `approval request \`${r.id}\` does not match its digest: its stored subject was changed`);
  }
  return {
    id: r.id,
    tenantId: r.tenant_id,
    digest: r.digest,
    status: r.status,
    subject,
    policy: JSON.parse(r.policy) as ApprovalPolicy,
    ...(r.agent_owner !== null ? { agentOwner: r.agent_owner } : {}),
    createdAt: iso(r.created_at),
    expiresAt: iso(r.expires_at),
    ...(r.decided_at !== null ? { decidedAt: iso(r.decided_at) } : {}),
    ...(r.confirmed_at !== null ? { confirmedAt: iso(r.confirmed_at) } : {}),
    ...(r.consumed_at !== null ? { consumedAt: iso(r.consumed_at) } : {}),
    votes: votes.map((v): ApprovalVote => ({ vote: v.vote, principal: v.principal, actor: v.actor, name: v.name, ...(v.comment !== null ? { comment: v.comment } : {}), at: iso(v.at) })),
  };
}

const isUniqueViolation = (err: unknown) => (err as { code?: string } | undefined)?.code === '23505';

/** Approval requests and their votes; every call runs in `withTenant` (row-level security), except `due`, which spans tenants by design. */
export function createApprovalRepo(db: Kysely<Schema>): ApprovalRepo {
  const withVotes = async (trx: Kysely<Schema>, tenantId: string, rows: readonly RequestRow[]): Promise<ApprovalRequest[]> => {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const { rows: votes } = await sql<VoteRow>`SELECT request_id, principal, vote, actor, name, comment, at FROM approval_votes
      WHERE tenant_id = ${tenantId} AND request_id = ANY(string_to_array(${ids.join(',')}, ',')) ORDER BY at, principal`.execute(trx);
    return rows.map((r) => toRequest(r, votes.filter((v) => v.request_id === r.id)));
  };
  const one = async (trx: Kysely<Schema>, tenantId: string, id: string, lock = false): Promise<ApprovalRequest | undefined> => {
    const { rows } = await sql<RequestRow>`SELECT ${COLUMNS} FROM approval_requests WHERE tenant_id = ${tenantId} AND id = ${id} ${lock ? sql`FOR UPDATE` : sql``}`.execute(trx);
    return (await withVotes(trx, tenantId, rows))[0];
  };

  return {
    async insert(r) {
      try {
        await withTenant(db, r.tenantId, async (trx) => {
          await sql`INSERT INTO approval_requests (tenant_id, id, digest, session_digest, status, scope, agent, subject, policy, agent_owner, created_at, expires_at)
            VALUES (${r.tenantId}, ${r.id}, ${r.digest}, ${r.sessionDigest ?? null}, ${r.status}, ${r.subject.scope}, ${r.subject.agent ?? null}, ${canonicalJson(r.subject)}, ${JSON.stringify(r.policy)},
                    ${r.agentOwner ?? null}, ${r.createdAt}, ${r.expiresAt})`.execute(trx);
        });
        return true;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },

    get: (tenantId, id) => withTenant(db, tenantId, (trx) => one(trx, tenantId, id)),

    status: (tenantId, id) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<{ status: ApprovalStatus; expires_at: Time }>`SELECT status, expires_at FROM approval_requests WHERE tenant_id = ${tenantId} AND id = ${id}`.execute(trx);
        return rows[0] ? { status: rows[0].status, expiresAt: iso(rows[0].expires_at) } : undefined;
      }),

    pendingOf: (tenantId, agent) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<{ n: string | number }>`SELECT count(*) AS n FROM approval_requests WHERE tenant_id = ${tenantId} AND agent = ${agent} AND status = 'pending'`.execute(trx);
        return Number(rows[0]?.n ?? 0);
      }),

    latestByDigest: (tenantId, digest) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<RequestRow>`SELECT ${COLUMNS} FROM approval_requests WHERE tenant_id = ${tenantId} AND digest = ${digest} ORDER BY created_at DESC, id DESC LIMIT 1`.execute(trx);
        return (await withVotes(trx, tenantId, rows))[0];
      }),

    sessionApproval: (tenantId, sessionDigest, now) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<RequestRow>`SELECT ${COLUMNS} FROM approval_requests
          WHERE tenant_id = ${tenantId} AND session_digest = ${sessionDigest} AND status = 'approved' AND expires_at > ${now.toISOString()}
          ORDER BY created_at DESC LIMIT 1`.execute(trx);
        const r = (await withVotes(trx, tenantId, rows))[0];
        return r?.policy.reuse === 'session' ? r : undefined;
      }),

    list: (tenantId, filter) =>
      withTenant(db, tenantId, async (trx) => {
        const { rows } = await sql<RequestRow>`SELECT ${COLUMNS} FROM approval_requests
          WHERE tenant_id = ${tenantId} ${filter.status ? sql`AND status = ${filter.status}` : sql``} ${filter.before ? sql`AND id < ${filter.before}` : sql``}
          ORDER BY id DESC LIMIT ${filter.limit}`.execute(trx);
        // One row changed behind Warden's back is left out of the list (and refused when asked for by id), not the whole page.
        const sound = rows.filter((r) => {
          try {
            return approvalDigest(JSON.parse(r.subject) as ApprovalSubject) === r.digest;
          } catch {
            return false;
          }
        });
        return withVotes(trx, tenantId, sound);
      }),

    vote: (tenantId, id, decide) =>
      withTenant(db, tenantId, async (trx) => {
        const current = await one(trx, tenantId, id, true);
        if (!current) throw new WardenError('approval.not_found', `no approval request \`${id}\``);
        const change = decide(current);
        const v = change.vote;
        await sql`INSERT INTO approval_votes (tenant_id, request_id, principal, vote, actor, name, comment, at)
          VALUES (${tenantId}, ${id}, ${v.principal}, ${v.vote}, ${v.actor}, ${v.name}, ${v.comment ?? null}, ${v.at})`.execute(trx);
        await sql`UPDATE approval_requests SET status = ${change.status}, decided_at = ${change.decidedAt ?? null},
          expires_at = ${change.expiresAt ?? current.expiresAt} WHERE tenant_id = ${tenantId} AND id = ${id}`.execute(trx);
        return (await one(trx, tenantId, id))!;
      }),

    confirm: (tenantId, id, at, approved) =>
      withTenant(db, tenantId, async (trx) => {
        const r = await sql`UPDATE approval_requests SET confirmed_at = ${at}
          ${approved ? sql`, status = 'approved', decided_at = ${at}, expires_at = ${at}::timestamptz + (expires_at - created_at)` : sql``}
          WHERE tenant_id = ${tenantId} AND id = ${id} AND status = 'pending' AND expires_at > ${at}`.execute(trx);
        return Number(r.numAffectedRows ?? 0) === 1;
      }),

    close: (tenantId, id, from, to, at) =>
      withTenant(db, tenantId, async (trx) => {
        const r = await sql`UPDATE approval_requests SET status = ${to}, decided_at = ${at} WHERE tenant_id = ${tenantId} AND id = ${id} AND status = ${from}`.execute(trx);
        return Number(r.numAffectedRows ?? 0) === 1;
      }),

    consume: (tenantId, id, now) =>
      withTenant(db, tenantId, async (trx) => {
        const r = await sql`UPDATE approval_requests SET consumed_at = ${now.toISOString()}
          WHERE tenant_id = ${tenantId} AND id = ${id} AND status = 'approved' AND consumed_at IS NULL AND expires_at > ${now.toISOString()}`.execute(trx);
        return Number(r.numAffectedRows ?? 0) === 1;
      }),

    async pendingCount() {
      const { rows } = await sql<{ n: string | number }>`SELECT count(*) AS n FROM approval_requests WHERE status = 'pending'`.execute(db);
      return Number(rows[0]?.n ?? 0);
    },

    async due(now, limit) {
      const { rows } = await sql<{ tenant_id: string; id: string }>`SELECT tenant_id, id FROM approval_requests
        WHERE status = 'pending' AND expires_at <= ${now.toISOString()} ORDER BY expires_at LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({ tenantId: r.tenant_id, id: r.id }));
    },
  };
}
