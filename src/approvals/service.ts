import { EventEmitter } from 'node:events';
import { approvalDigest, canonicalJson, digestJson, newAuditEvent, PERSON_ROLES, sessionDigest, uuidv7, WardenError, type ApprovalPolicy, type ApprovalRequest, type ApprovalStatus, type ApprovalSubject, type AuditEventType, type AuditSink, type Clock } from '../domain/index.js';
import { actorOf, holdsAt, personOf, type Credential, type Role } from '../identity/index.js';
import { refusalOf } from './eligibility.js';
import type { ApprovalRepo, VoteChange } from './ports.js';

/** The largest subject (canonical JSON) put to approval. */
export const MAX_SUBJECT_BYTES = 64 * 1024;
/** Pending requests one agent may have open at once. */
export const MAX_PENDING_PER_AGENT = 20;

/** Roles that read approval requests at their scope (the arguments they hold included). */
export const APPROVAL_READERS: readonly Role[] = ['owner', 'admin', 'approver', 'auditor'];

/** What the checkpoint asks for one `require_approval` decision. */
export interface ResolveInput {
  tenantId: string;
  subject: ApprovalSubject;
  policy: ApprovalPolicy;
  /** The owner of the requesting agent as the registry knows it. */
  agentOwner?: string | undefined;
}

/**
 * What became of it: `released` (an approval of this exact call, now used), `pending` (a request
 * opened or still waiting), `denied` (an approver denied this exact call, and its request has not
 * run out).
 */
export interface Resolution {
  outcome: 'released' | 'pending' | 'denied';
  request: ApprovalRequest;
}

/** Called once per new request (the webhook notifier); never awaited by the decision. */
export type OnRequest = (r: ApprovalRequest) => void;

/** Approval requests of every tenant: opened by the checkpoint, answered by people, waited on by enforcement points. */
export interface ApprovalService {
  resolve(input: ResolveInput): Promise<Resolution>;
  get(c: Credential, id: string): Promise<ApprovalRequest>;
  /** Requests the caller may read, newest first; `answerable`: only those it may answer now. */
  list(c: Credential, filter: { status?: ApprovalStatus | undefined; answerable?: boolean; limit?: number | undefined; before?: string | undefined }): Promise<ApprovalRequest[]>;
  answer(c: Credential, id: string, vote: 'approve' | 'deny', comment: string | undefined): Promise<ApprovalRequest>;
  /** Withdraws a pending request: its requester (the agent or an enforcer at its scope) or an owner/admin there. */
  cancel(c: Credential, id: string, reason: string | undefined): Promise<ApprovalRequest>;
  /**
   * The requesting principal's own confirmation (the gateway's elicitation answer): audited, never
   * counted as an approver; releases a request that asks for nothing else.
   */
  confirm(tenantId: string, id: string, principal: string, accepted: boolean): Promise<ApprovalRequest>;
  /**
   * Resolves when the request leaves `pending` (or expires, which this call records), or when
   * `budgetMs` has passed with the request still pending. Sees answers given on other replicas
   * within `pollMs`; `onTick` is called about every `tickMs` while it waits (progress notifications).
   */
  wait(tenantId: string, id: string, opts: { budgetMs: number; signal?: AbortSignal | undefined; onTick?: ((waitedMs: number) => void) | undefined; tickMs?: number }): Promise<ApprovalRequest>;
  /** Expires every pending request past its time, auditing each; the number expired. */
  expireDue(): Promise<number>;
  /** Requests waiting for an answer, every tenant together (the `warden_approvals_pending` gauge). */
  pendingCount(): Promise<number>;
}

export interface ApprovalServiceDeps {
  repo: ApprovalRepo;
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
  onRequest?: OnRequest | undefined;
  /** How often a waiter re-reads the store for answers given on another replica (the bound on cross-replica release: 1 s). @default 250 */
  pollMs?: number;
  logger?: { warn(obj: object, msg: string): void } | undefined;
}

function notFound(id: string): WardenError {
  return new WardenError('approval.not_found', `no approval request \`${id}\` that this credential may see`, { help: '`GET /api/v1/approvals` (or `warden approvals list`) lists the requests you may see' });
}

const SYSTEM_ACTOR = { type: 'system' as const, id: 'warden', name: 'Warden' };

/** Builds the approvals service over its store. */
export function createApprovalService(deps: ApprovalServiceDeps): ApprovalService {
  const { repo, clock } = deps;
  const pollMs = deps.pollMs ?? 250;
  // Answers given in this process wake its waiters at once; other replicas' answers are polled.
  const changed = new EventEmitter();
  changed.setMaxListeners(0);
  const wake = (r: ApprovalRequest) => changed.emit(`${r.tenantId}\n${r.id}`, r);

  const record = async (type: AuditEventType, r: ApprovalRequest, actor: ReturnType<typeof actorOf> | typeof SYSTEM_ACTOR, extra: Record<string, unknown> = {}, outcome: 'success' | 'denied' | 'failure' | 'pending' = 'success') => {
    await deps.audit.append([
      newAuditEvent(
        {
          tenantId: r.tenantId,
          scope: r.subject.scope,
          category: 'approval',
          type,
          severity: type === 'approval.request.refused' ? 'high' : type === 'approval.request.created' ? 'low' : 'medium',
          outcome,
          actor,
          target: { kind: 'approval', name: r.id },
          ...(r.subject.agent ? { agent: { id: r.subject.agent } } : {}),
          details: { digest: r.digest, status: r.status, expiresAt: r.expiresAt, votes: r.votes.length, needed: r.policy.count, ...extra },
        },
        clock.now(),
      ),
    ]);
  };

  const readable = (c: Credential, r: ApprovalRequest): boolean => {
    if (c.tenantId !== r.tenantId) return false;
    const s = r.subject;
    if (c.agentId !== undefined) return c.agentId === s.agent;
    if (holdsAt(c.grants, ['enforcer', ...APPROVAL_READERS], s.scope)) return true;
    // The requester and named approvers read it only with a role at its scope (a name alone proves nothing).
    if (!holdsAt(c.grants, PERSON_ROLES, s.scope)) return false;
    const me = personOf(c);
    // An approver named by role (`approvers: { roles: [analyst] }`) reads what it may answer.
    return me === s.principal || r.policy.approvers.some((g) => g.principals?.includes(me) || holdsAt(c.grants, (g.roles ?? []).filter((x): x is Role => (PERSON_ROLES as readonly string[]).includes(x)), s.scope));
  };

  const load = async (c: Credential, id: string): Promise<ApprovalRequest> => {
    const r = await repo.get(c.tenantId, id);
    if (!r || !readable(c, r)) throw notFound(id);
    return r;
  };

  /** Records the expiry of a pending request past its time (once, whoever notices first). */
  const expire = async (r: ApprovalRequest): Promise<ApprovalRequest> => {
    const at = clock.now().toISOString();
    if (await repo.close(r.tenantId, r.id, 'pending', 'expired', at)) {
      const done = { ...r, status: 'expired' as const, decidedAt: at };
      await record('approval.request.expired', done, SYSTEM_ACTOR, {}, 'denied');
      wake(done);
      return done;
    }
    return (await repo.get(r.tenantId, r.id)) ?? r;
  };

  const open = async (input: ResolveInput, digest: string): Promise<ApprovalRequest> => {
    const now = clock.now();
    // Bounds on what one agent can put in front of people: the subject's size and its open requests.
    const size = Buffer.byteLength(canonicalJson(input.subject));
    if (size > MAX_SUBJECT_BYTES) throw new WardenError('approval.too_large', `the call is ${size} bytes as approvers would see it; at most ${MAX_SUBJECT_BYTES} can be put to approval`);
    if (input.subject.agent !== undefined && (await repo.pendingOf(input.tenantId, input.subject.agent)) >= MAX_PENDING_PER_AGENT) {
      throw new WardenError('approval.too_many_pending', `agent \`${input.subject.agent}\` already has ${MAX_PENDING_PER_AGENT} approval requests pending; wait for them to be answered or expire`);
    }
    const r: ApprovalRequest = {
      id: `apr_${uuidv7(now.getTime()).replaceAll('-', '')}`,
      tenantId: input.tenantId,
      digest,
      status: 'pending',
      subject: input.subject,
      policy: input.policy,
      ...(input.agentOwner !== undefined ? { agentOwner: input.agentOwner } : {}),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + input.policy.timeoutMs).toISOString(),
      votes: [],
    };
    if (!(await repo.insert({ ...r, sessionDigest: sessionDigest(input.subject, input.policy) }))) {
      // An identical call opened one a moment ago: both wait on that one.
      const other = await repo.latestByDigest(input.tenantId, digest);
      if (other) return other;
    }
    // The arguments stay out of the event (events hold digests unless call bodies are captured); approvers read them from the request.
    const { args, ...bare } = r.subject;
    await record('approval.request.created', r, SYSTEM_ACTOR, { subject: { ...bare, ...(args !== undefined ? { argsDigest: digestJson(args) } : {}) }, policy: r.policy }, 'pending');
    try {
      deps.onRequest?.(r);
    } catch (err) {
      deps.logger?.warn({ err: String(err), id: r.id }, 'approval notification failed');
    }
    return r;
  };

  const service: ApprovalService = {
    async resolve(given) {
      const now = clock.now();
      // Session reuse needs a session: without one (a decide call naming none) an approval is used once.
      const input = given.policy.reuse === 'session' && given.subject.session === undefined ? { ...given, policy: { ...given.policy, reuse: 'once' as const } } : given;
      const digest = approvalDigest(input.subject);
      const latest = await repo.latestByDigest(input.tenantId, digest);
      const live = latest !== undefined && now.getTime() < Date.parse(latest.expiresAt);
      // A live denial of this exact call wins over any approval, a session's included.
      if (latest?.status === 'denied' && live) return { outcome: 'denied', request: latest };
      if (input.policy.reuse === 'session') {
        const sd = sessionDigest(input.subject, input.policy);
        const reusable = sd === undefined ? undefined : await repo.sessionApproval(input.tenantId, sd, now);
        if (reusable) return { outcome: 'released', request: reusable };
      }
      if (latest) {
        if (latest.status === 'approved' && live && latest.policy.reuse === 'once') {
          // Two retries at once: one uses the approval, the other asks again.
          if (latest.consumedAt === undefined && (await repo.consume(input.tenantId, latest.id, now))) return { outcome: 'released', request: { ...latest, consumedAt: now.toISOString() } };
        }
        if (latest.status === 'approved' && live && latest.policy.reuse === 'session' && sessionDigest(latest.subject, latest.policy) === sessionDigest(input.subject, input.policy)) {
          return { outcome: 'released', request: latest };
        }
        if (latest.status === 'pending' && live) return { outcome: 'pending', request: latest };
        if (latest.status === 'pending') await expire(latest);
      }
      return { outcome: 'pending', request: await open(input, digest) };
    },

    get: load,

    async list(c, filter) {
      const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
      const now = clock.now();
      const out: ApprovalRequest[] = [];
      let before = filter.before;
      // Reads pages until `limit` readable requests are found (or the store runs out).
      for (let pages = 0; out.length < limit && pages < 20; pages++) {
        const page = await repo.list(c.tenantId, { status: filter.status, limit: limit * 2, before });
        for (const r of page) {
          if (!readable(c, r)) continue;
          if (filter.answerable && refusalOf(r, c, now)) continue;
          out.push(r);
          if (out.length === limit) break;
        }
        if (page.length < limit * 2) break;
        before = page[page.length - 1]!.id;
      }
      return out;
    },

    async answer(c, id, vote, comment) {
      const r = await load(c, id);
      const now = clock.now();
      const me = personOf(c);
      let refusal = refusalOf(r, c, now);
      if (refusal?.code === 'approval.expired') await expire(r);
      let updated: ApprovalRequest | undefined;
      if (!refusal) {
        try {
          updated = await repo.vote(c.tenantId, id, (current) => {
            // The row as locked: another answer may have closed it or counted this person meanwhile.
            const again = refusalOf(current, c, now);
            if (again) throw new WardenError(again.code, again.message);
            const at = now.toISOString();
            const v = { vote, principal: me, actor: actorOf(c).id, name: c.name, ...(comment ? { comment } : {}), at };
            const approvals = current.votes.filter((x) => x.vote === 'approve').length + (vote === 'approve' ? 1 : 0);
            const change: VoteChange =
              vote === 'deny'
                ? { vote: v, status: 'denied', decidedAt: at }
                : approvals >= current.policy.count && (!current.policy.confirm || current.confirmedAt !== undefined)
                  ? { vote: v, status: 'approved', decidedAt: at, expiresAt: new Date(now.getTime() + current.policy.timeoutMs).toISOString() }
                  : { vote: v, status: 'pending' };
            return change;
          });
        } catch (err) {
          if (!(err instanceof WardenError) || !err.code.startsWith('approval.')) throw err;
          refusal = { code: err.code as NonNullable<typeof refusal>['code'], message: err.message };
        }
      }
      if (refusal || !updated) {
        const why = refusal ?? { code: 'approval.closed' as const, message: `approval request \`${id}\` takes no more answers` };
        await record('approval.request.refused', r, actorOf(c), { vote, code: why.code, reason: why.message, by: me }, 'denied');
        throw new WardenError(why.code, why.message, {
          help: why.code === 'approval.not_approver' || why.code === 'approval.self' || why.code === 'approval.agent_owner' ? 'ask one of the approvers the request names (`warden approvals show <id>`)' : undefined,
        });
      }
      const type: AuditEventType = updated.status === 'approved' ? 'approval.request.approved' : updated.status === 'denied' ? 'approval.request.denied' : 'approval.request.voted';
      await record(type, updated, actorOf(c), { vote, by: me, ...(comment ? { comment } : {}) }, updated.status === 'denied' ? 'denied' : 'success');
      wake(updated);
      return updated;
    },

    async cancel(c, id, reason) {
      const r = await load(c, id);
      const requester = c.agentId !== undefined ? c.agentId === r.subject.agent : holdsAt(c.grants, ['enforcer', 'owner', 'admin'], r.subject.scope);
      if (!requester) throw new WardenError('auth.forbidden', `withdrawing approval request \`${id}\` needs its agent, or \`enforcer\`, \`owner\` or \`admin\` at \`${r.subject.scope}\``);
      const at = clock.now().toISOString();
      if (!(await repo.close(c.tenantId, id, 'pending', 'cancelled', at))) throw new WardenError('approval.closed', `approval request \`${id}\` is ${(await repo.get(c.tenantId, id))?.status ?? 'gone'}; only a pending request can be withdrawn`);
      const done = { ...r, status: 'cancelled' as const, decidedAt: at };
      await record('approval.request.cancelled', done, actorOf(c), reason ? { reason } : {}, 'success');
      wake(done);
      return done;
    },

    async confirm(tenantId, id, principal, accepted) {
      const r = await repo.get(tenantId, id);
      if (!r) throw notFound(id);
      if (!r.policy.confirm || r.subject.principal !== principal) throw new WardenError('approval.not_approver', `approval request \`${id}\` does not ask \`${principal}\` to confirm it`);
      const at = clock.now().toISOString();
      if (Date.parse(at) >= Date.parse(r.expiresAt)) {
        await expire(r);
        throw new WardenError('approval.expired', `approval request \`${id}\` expired at ${r.expiresAt}; the call was denied`);
      }
      if (r.status !== 'pending') throw new WardenError('approval.closed', `approval request \`${id}\` is ${r.status}`);
      // The answer came through the agent's own MCP client: recorded as the principal's, marked unauthenticated.
      const actor = { type: 'user' as const, id: principal, name: principal, authMethod: 'elicitation (through the agent\'s client, not authenticated)' };
      if (!accepted) {
        if (!(await repo.close(tenantId, id, 'pending', 'denied', at))) return (await repo.get(tenantId, id)) ?? r;
        const done = { ...r, status: 'denied' as const, decidedAt: at };
        await record('approval.request.denied', done, actor, { by: principal, confirmation: 'declined' }, 'denied');
        wake(done);
        return done;
      }
      const approvals = r.votes.filter((v) => v.vote === 'approve').length;
      const complete = approvals >= r.policy.count;
      // Audited only when the row changed: a request closed or expired meanwhile stays as it is.
      if (!(await repo.confirm(tenantId, id, at, complete))) return (await repo.get(tenantId, id)) ?? r;
      let done = (await repo.get(tenantId, id)) ?? r;
      // A vote counted between the read above and the update saw no confirmation: complete it now.
      if (done.status === 'pending' && done.votes.filter((v) => v.vote === 'approve').length >= done.policy.count && (await repo.confirm(tenantId, id, at, true))) done = (await repo.get(tenantId, id)) ?? done;
      await record('approval.request.confirmed', done, actor, { by: principal }, 'success');
      if (done.status === 'approved') await record('approval.request.approved', done, actor, { by: principal, confirmation: 'accepted' }, 'success');
      wake(done);
      return done;
    },

    async wait(tenantId, id, opts) {
      const started = performance.now();
      const tickMs = opts.tickMs ?? 2000;
      let lastTick = started;
      const key = `${tenantId}\n${id}`;
      for (;;) {
        // The state alone while it waits; the whole request (votes, digest checked) once it changes.
        const state = await repo.status(tenantId, id);
        if (!state) throw notFound(id);
        let r: ApprovalRequest | undefined;
        if (state.status !== 'pending' || clock.now().getTime() >= Date.parse(state.expiresAt)) {
          r = await repo.get(tenantId, id);
          if (!r) throw notFound(id);
          if (r.status === 'pending' && clock.now().getTime() >= Date.parse(r.expiresAt)) r = await expire(r);
          return r;
        }
        const waited = performance.now() - started;
        if (waited >= opts.budgetMs || opts.signal?.aborted) return (await repo.get(tenantId, id)) ?? Promise.reject(notFound(id));
        if (opts.onTick && performance.now() - lastTick >= tickMs) {
          lastTick = performance.now();
          opts.onTick(waited);
        }
        const pause = Math.max(1, Math.min(pollMs, opts.budgetMs - waited, Date.parse(state.expiresAt) - clock.now().getTime() + 1));
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(t);
            changed.off(key, done);
            opts.signal?.removeEventListener('abort', done);
            resolve();
          };
          const t = setTimeout(done, pause);
          changed.on(key, done);
          opts.signal?.addEventListener('abort', done, { once: true });
        });
      }
    },

    pendingCount: () => repo.pendingCount(),

    async expireDue() {
      const due = await repo.due(clock.now(), 500);
      let n = 0;
      for (const { tenantId, id } of due) {
        const r = await repo.get(tenantId, id);
        if (r?.status === 'pending' && (await expire(r)).status === 'expired') n++;
      }
      return n;
    },
  };
  return service;
}

/** The subject as approvers see it: its canonical JSON (what the digest is over). */
export function subjectText(r: ApprovalRequest): string {
  return canonicalJson(r.subject);
}
