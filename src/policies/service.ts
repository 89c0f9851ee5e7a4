import { newAuditEvent, WardenError, type AuditSink, type Clock, type ValidationIssue } from '../domain/index.js';
import type { AuditRepoLike } from './replay-source.js';
import { actorOf, holdsAt, personOf, readableScopes, type Credential, type Role } from '../identity/index.js';
import { replayDecisions, type ReplayReport } from './replay.js';
import { ancestry, isUnder, loadPolicySources, type PolicyLoadOptions, type PolicySet } from '../policy/index.js';
import { diffVersions, type PolicyDiff } from './diff.js';
import type { ActiveCheck, PolicyRecord, PolicyRepo, PolicyVersion, VersionStatus } from './records.js';
import { sourceHash } from './release.js';
import type { FileSets, TenantPolicySets } from './tenant-sets.js';

/** Roles that read policies; those that write them (and review another person's version). */
export const POLICY_READERS: readonly Role[] = ['owner', 'admin', 'policy_author', 'approver', 'auditor', 'analyst', 'viewer'];
export const POLICY_WRITERS: readonly Role[] = ['owner', 'admin', 'policy_author'];

const NAME = /^[a-z0-9][a-z0-9-]{0,127}$/;

/** Whether `name` may name a managed policy: lowercase letters, digits and `-`, at most 128. */
export function isPolicyName(name: string): boolean {
  return NAME.test(name);
}
/** Largest YAML a version may hold. */
export const MAX_POLICY_SOURCE = 512 * 1024;

/** A 422: the YAML does not lint, with every error's `line:col` (no file: the body is the file). */
export class PolicyInvalid extends WardenError {
  constructor(
    message: string,
    readonly issues: ValidationIssue[],
  ) {
    super('policy.invalid', message, { help: 'fix the listed positions (`warden policy lint` reports the same locally)' });
  }
}

/** The managed policies of a caller's tenant, with the caller's authority checked on every call. */
export interface PolicyService {
  list(c: Credential): Promise<PolicyRecord[]>;
  get(c: Credential, name: string): Promise<{ policy: PolicyRecord; active: PolicyVersion | undefined; fileSource?: string }>;
  versions(c: Credential, name: string): Promise<PolicyVersion[]>;
  version(c: Credential, name: string, n: number): Promise<PolicyVersion>;
  diff(c: Credential, name: string, from: number, to: number): Promise<PolicyDiff>;
  /** A new draft from YAML; `ifMatch`: the latest version the writer saw (null: the policy must be new). */
  put(c: Credential, name: string, source: string, ifMatch: number | null | undefined, path?: string): Promise<PolicyVersion>;
  submit(c: Credential, name: string, n: number): Promise<PolicyVersion>;
  approve(c: Credential, name: string, n: number, comment: string | undefined): Promise<PolicyVersion>;
  /** A review comment that approves nothing (the author may answer, too). */
  comment(c: Credential, name: string, n: number, comment: string): Promise<PolicyVersion>;
  activate(c: Credential, name: string, n: number, ifMatch: number | undefined): Promise<PolicyVersion>;
  rollback(c: Credential, name: string, to: number, ifMatch: number | undefined): Promise<PolicyVersion>;
  archive(c: Credential, name: string, ifMatch: number | undefined): Promise<PolicyRecord>;
  /**
   * Decides the tenant's recorded decisions in a time range again, under the active set and under
   * the set with the drafts in place (stored versions, or YAML not stored), and reports what changes.
   * Only events at scopes where the caller reads the audit log or writes policies are read.
   */
  replay(c: Credential, req: ReplayRequest, onProgress?: (read: number, total: number) => void): Promise<ReplayReport & { total: number }>;
  /** Approvals a version with these scopes needs in the tenant's set in force (nearest `policyApprovals`, the largest over its scopes; default 1). */
  requiredApprovals(tenantId: string, scopes: readonly string[]): number;
}

/** What to replay: drafts (a stored version, or YAML under a name) over a range of recorded decisions. */
export interface ReplayRequest {
  drafts: ({ name: string; version: number } | { name: string; source: string })[];
  from?: string | undefined;
  to?: string | undefined;
  scope?: string | undefined;
  samples?: number | undefined;
}

/** Roles that may replay drafts over recorded decisions (they see tools, scopes and rules of the events, not their bodies). */
export const REPLAY_ROLES: readonly Role[] = ['owner', 'admin', 'policy_author', 'auditor'];

export interface PolicyServiceDeps {
  repo: PolicyRepo;
  sets: TenantPolicySets;
  files: FileSets;
  audit: Pick<AuditSink, 'append'>;
  clock: Clock;
  /** The tenant's recorded events, oldest or newest first (replay reads decision events). */
  events?: AuditRepoLike;
  /** What lint and compile are told besides the YAML (the status check allow-list): the tenant sets' own. @default {} */
  load?: PolicyLoadOptions;
}

export { personOf };

function notFound(name: string, n?: number): WardenError {
  return new WardenError('policy.not_found', n === undefined ? `no policy \`${name}\` in this tenant` : `policy \`${name}\` has no version ${n}`, {
    help: '`GET /api/v1/policies` (or `warden policy list`) shows the policies you may read',
  });
}

function forbidden(c: Credential, what: string, scopes: readonly string[]): WardenError {
  return new WardenError('auth.forbidden', `${what} needs \`owner\`, \`admin\` or \`policy_author\` at every scope it covers (${scopes.map((s) => `\`${s}\``).join(', ')})`, {
    help: `this credential holds ${c.grants.map((g) => `\`${g.role}\` at ${g.scope ?? 'the whole tenant'}`).join(', ') || 'no role'}`,
  });
}

/** Lints YAML as one managed source: every error of the run, positioned by `line:col`. */
export function lintManaged(name: string, source: string, load: PolicyLoadOptions = {}): { scopes: string[]; policyNames: string[] } {
  if (source.length > MAX_POLICY_SOURCE) throw new PolicyInvalid(`the policy YAML is larger than ${MAX_POLICY_SOURCE} bytes`, []);
  const r = loadPolicySources([{ file: '', text: source }], load);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const issues = errors.map((d) => ({ path: `${d.span.line}:${d.span.col}`, message: `${d.code}: ${d.message}` }));
    throw new PolicyInvalid(`policy \`${name}\` does not lint: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  const set = r.set!;
  const scopes = scopesOfSet(set);
  if (scopes.length === 0) throw new PolicyInvalid(`policy \`${name}\` holds no Policy or ScopeSettings document`, [{ path: '1:1', message: 'an empty source' }]);
  return { scopes, policyNames: set.policies.map((p) => p.name) };
}

/** Every scope a compiled source applies to: its policies' and its settings', sorted. */
function scopesOfSet(set: PolicySet): string[] {
  const scopes = new Set<string>();
  for (const p of set.policies) for (const s of p.scopes) scopes.add(s);
  for (const s of set.settings.keys()) scopes.add(s);
  return [...scopes].sort();
}

/** Scopes of a stored source (it linted when it was stored). */
function scopesOf(source: string, load: PolicyLoadOptions): string[] {
  const set = loadPolicySources([{ file: '', text: source }], load).set;
  return set ? scopesOfSet(set) : [];
}

/**
 * Whether `path` may name the file a managed policy is pulled to: relative, inside the directory
 * (no `..`, no absolute path, no backslash), of safe characters, ending `.yaml`/`.yml`.
 */
export function isSafePolicyPath(path: string): boolean {
  return path.length <= 256 && /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\.ya?ml$/.test(path) && !path.split('/').some((p) => p === '.' || p === '..' || p.startsWith('.'));
}

/** The policy a file holds: its base name without `.yaml` (what push names it, and pull writes back). */
export function policyNameOfFile(file: string): string {
  return (file.split(/[\\/]/).pop() ?? file).replace(/\.ya?ml$/, '');
}

export function createPolicyService(deps: PolicyServiceDeps): PolicyService {
  const { repo, sets, clock } = deps;

  const mayRead = (c: Credential, scopes: readonly string[]) =>
    c.grants.some((g) => POLICY_READERS.includes(g.role) && (g.scope === undefined || scopes.some((s) => isUnder(s, g.scope!) || isUnder(g.scope!, s))));
  const mayWrite = (c: Credential, scopes: readonly string[]) => scopes.every((s) => holdsAt(c.grants, POLICY_WRITERS, s));

  const fileEntities = (): { record: PolicyRecord; text: string }[] =>
    deps.files.sources().map((src) => ({
      record: { name: policyNameOfFile(src.file), source: 'file', scopes: scopesOf(src.text, deps.load ?? {}), activeVersion: null, latestVersion: 0, archived: false, createdAt: null, updatedAt: null },
      text: src.text,
    }));

  const readable = async (c: Credential, name: string): Promise<PolicyRecord> => {
    const p = await repo.get(c.tenantId, name);
    if (!p || !mayRead(c, p.scopes)) throw notFound(name);
    return p;
  };
  const writable = async (c: Credential, name: string, what: string): Promise<PolicyRecord> => {
    const p = await readable(c, name);
    if (!mayWrite(c, p.scopes)) throw forbidden(c, what, p.scopes);
    return p;
  };
  const versionOf = async (c: Credential, name: string, n: number): Promise<PolicyVersion> => {
    const v = await repo.version(c.tenantId, name, n);
    if (!v) throw notFound(name, n);
    return v;
  };
  const readOnly = (name: string) => {
    if (fileEntities().some((f) => f.record.name === name)) {
      throw new WardenError('policy.conflict', `policy \`${name}\` is read from a file given with \`--policies\`; it is read-only here`, { help: 'change the file (and its Git history), or stop serving it from files' });
    }
  };

  const audit = async (c: Credential, type: 'policy.version.created' | 'policy.version.submitted' | 'policy.version.approved' | 'policy.version.commented' | 'policy.version.activated' | 'policy.version.rolled_back' | 'policy.policy.archived', name: string, scopes: readonly string[], details: Record<string, unknown>) => {
    await deps.audit.append([
      newAuditEvent(
        { tenantId: c.tenantId, scope: scopes[0] ?? c.tenantId, category: 'admin', type, severity: type === 'policy.version.created' ? 'info' : 'medium', outcome: 'success', actor: actorOf(c), target: { kind: 'policy', name }, details: { ...details, scopes: [...scopes] } },
        clock.now(),
      ),
    ]);
  };

  /**
   * Refuses, inside the transaction that changes the active set, a set that would not compile with
   * the tenant's files and its other active policies (the repo serializes a tenant's changes, so a
   * concurrent activation is checked against this one, not beside it).
   */
  const compiles =
    (what: string): ActiveCheck =>
    (active) => {
      const r = sets.compileWith(active);
      if (!r.set) throw new PolicyInvalid(`${what} would leave policies that do not compile: ${r.errors.join('; ')}`, r.errors.map((m) => ({ path: '', message: m })));
    };

  /** The largest, over the scopes, of the nearest `policyApprovals` at or above each (1 where none says). */
  const required = (set: PolicySet, scopes: readonly string[]) => {
    let most = 0;
    for (const scope of scopes) {
      const chain = ancestry(scope);
      let here: number | undefined;
      for (let i = chain.length - 1; i >= 0 && here === undefined; i--) here = set.settings.get(chain[i]!)?.policyApprovals;
      most = Math.max(most, here ?? 1);
    }
    return most;
  };

  const service: PolicyService = {
    async list(c) {
      const managed = (await repo.list(c.tenantId)).filter((p) => mayRead(c, p.scopes));
      const files = fileEntities()
        .map((f) => f.record)
        .filter((p) => mayRead(c, p.scopes));
      return [...files, ...managed];
    },

    async get(c, name) {
      const file = fileEntities().find((f) => f.record.name === name);
      if (file) {
        if (!mayRead(c, file.record.scopes)) throw notFound(name);
        return { policy: file.record, active: undefined, fileSource: file.text };
      }
      const policy = await readable(c, name);
      return { policy, active: policy.activeVersion === null ? undefined : await versionOf(c, name, policy.activeVersion) };
    },

    async versions(c, name) {
      await readable(c, name);
      return repo.versions(c.tenantId, name);
    },

    async version(c, name, n) {
      await readable(c, name);
      return versionOf(c, name, n);
    },

    async diff(c, name, from, to) {
      await readable(c, name);
      const [a, b] = await Promise.all([versionOf(c, name, from), versionOf(c, name, to)]);
      return diffVersions(name, a, b);
    },

    async put(c, name, source, ifMatch, path) {
      if (!isPolicyName(name)) throw new PolicyInvalid(`\`${name.slice(0, 130)}\` is not a policy name: lowercase letters, digits and \`-\`, at most 128`, [{ path: 'name', message: 'not a policy name' }]);
      readOnly(name);
      if (path !== undefined && !isSafePolicyPath(path)) throw new PolicyInvalid(`\`${path.slice(0, 260)}\` is not a file path a policy may be pulled to: relative, \`.yaml\`, no \`..\``, [{ path: 'path', message: 'not a safe relative .yaml path' }]);
      const { scopes } = lintManaged(name, source, deps.load);
      if (!mayWrite(c, scopes)) throw forbidden(c, `writing policy \`${name}\``, scopes);
      const existing = await repo.get(c.tenantId, name);
      // A writer must hold the old scopes as well: moving a policy out of someone's reach is changing it there.
      if (existing && (!mayRead(c, existing.scopes) || !mayWrite(c, existing.scopes))) {
        if (!mayRead(c, existing.scopes)) throw notFound(name);
        throw forbidden(c, `changing policy \`${name}\``, existing.scopes);
      }
      const hash = sourceHash(source);
      const candidate = await sets.candidate(c.tenantId, [{ tenantId: c.tenantId, name, number: 0, hash, path: path ?? `${name}.yaml`, source }]);
      if (!candidate.set) throw new PolicyInvalid(`policy \`${name}\` does not compile with the policies in force: ${candidate.errors.join('; ')}`, candidate.errors.map((m) => ({ path: '', message: m })));
      const author = personOf(c);
      const { number } = await repo.createVersion(c.tenantId, { name, source, hash, path: path ?? `${name}.yaml`, scopes, author, now: clock.now(), expectLatest: ifMatch, status: 'draft' });
      await audit(c, 'policy.version.created', name, scopes, { version: number, hash });
      return versionOf(c, name, number);
    },

    async submit(c, name, n) {
      const p = await writable(c, name, `submitting policy \`${name}\``);
      const v = await versionOf(c, name, n);
      if (!(await repo.transition(c.tenantId, name, n, ['draft'], 'in_review', personOf(c), clock.now()))) {
        throw new WardenError('policy.conflict', `version ${n} of policy \`${name}\` is ${v.status}, not a draft, so it cannot be submitted`);
      }
      await audit(c, 'policy.version.submitted', name, p.scopes, { version: n, hash: v.hash });
      return versionOf(c, name, n);
    },

    async approve(c, name, n, comment) {
      await readable(c, name);
      const v = await versionOf(c, name, n);
      const scopes = scopesOf(v.source, deps.load ?? {});
      if (!mayWrite(c, scopes)) throw forbidden(c, `approving policy \`${name}\``, scopes);
      const me = personOf(c);
      if (me === v.author || me === v.submittedBy) {
        throw new WardenError('policy.self_approval', `version ${n} of policy \`${name}\` was ${me === v.author ? 'written' : 'submitted'} by you, so another person must approve it`, {
          help: 'ask a second person with `policy_author`, `admin` or `owner` at its scopes to review it',
        });
      }
      if (v.status !== 'in_review') throw new WardenError('policy.conflict', `version ${n} of policy \`${name}\` is ${v.status}; only a version in review can be approved`);
      await repo.review(c.tenantId, name, n, { reviewer: me, verdict: 'approve', ...(comment !== undefined ? { comment } : {}), createdAt: clock.now().toISOString() });
      await audit(c, 'policy.version.approved', name, scopes, { version: n, hash: v.hash, ...(comment !== undefined ? { comment } : {}) });
      return versionOf(c, name, n);
    },

    async comment(c, name, n, comment) {
      await readable(c, name);
      const v = await versionOf(c, name, n);
      const scopes = scopesOf(v.source, deps.load ?? {});
      if (!mayWrite(c, scopes)) throw forbidden(c, `commenting on policy \`${name}\``, scopes);
      await repo.review(c.tenantId, name, n, { reviewer: personOf(c), verdict: 'comment', comment, createdAt: clock.now().toISOString() });
      await audit(c, 'policy.version.commented', name, scopes, { version: n, hash: v.hash, comment });
      return versionOf(c, name, n);
    },

    async activate(c, name, n, ifMatch) {
      const p = await writable(c, name, `activating policy \`${name}\``);
      const v = await versionOf(c, name, n);
      const scopes = scopesOf(v.source, deps.load ?? {});
      if (!mayWrite(c, scopes)) throw forbidden(c, `activating policy \`${name}\``, scopes);
      const need = service.requiredApprovals(c.tenantId, scopes);
      const approvals = new Set(v.reviews.filter((r) => r.verdict === 'approve' && r.reviewer !== v.author).map((r) => r.reviewer)).size;
      const from: VersionStatus[] = need === 0 ? ['draft', 'in_review'] : ['in_review'];
      if (!from.includes(v.status)) throw new WardenError('policy.conflict', `version ${n} of policy \`${name}\` is ${v.status}; ${need === 0 ? 'a draft or a version in review' : 'only a version in review'} can be activated`);
      if (approvals < need) {
        throw new WardenError('policy.approvals_missing', `version ${n} of policy \`${name}\` has ${approvals} of the ${need} approval${need === 1 ? '' : 's'} its scopes require`, {
          help: 'another person with `policy_author`, `admin` or `owner` at its scopes approves it with `POST .../approve`',
        });
      }
      const { release } = await repo.activate(c.tenantId, name, n, from, personOf(c), clock.now(), ifMatch, compiles(`activating version ${n} of policy \`${name}\``));
      await sets.refresh(c.tenantId);
      await audit(c, 'policy.version.activated', name, scopes, { version: n, hash: v.hash, previous: p.activeVersion, release, approvals, required: need });
      return versionOf(c, name, n);
    },

    async rollback(c, name, to, ifMatch) {
      const p = await writable(c, name, `rolling back policy \`${name}\``);
      const target = await versionOf(c, name, to);
      // Only content that was in force before: a rollback skips review because it was reviewed then.
      if (target.activatedAt === undefined) throw new WardenError('policy.conflict', `version ${to} of policy \`${name}\` was never active, so it cannot be rolled back to`, { help: 'submit it for review instead' });
      const scopes = scopesOf(target.source, deps.load ?? {});
      if (!mayWrite(c, scopes)) throw forbidden(c, `rolling back policy \`${name}\``, scopes);
      const { number, release } = await repo.createVersion(
        c.tenantId,
        { name, source: target.source, hash: target.hash, path: target.path, scopes, author: personOf(c), now: clock.now(), expectLatest: ifMatch, status: 'active', rollbackOf: to },
        compiles(`rolling policy \`${name}\` back to version ${to}`),
      );
      await sets.refresh(c.tenantId);
      await audit(c, 'policy.version.rolled_back', name, scopes, { version: number, rollbackOf: to, previous: p.activeVersion, hash: target.hash, release });
      return versionOf(c, name, number);
    },

    async archive(c, name, ifMatch) {
      readOnly(name);
      const p = await writable(c, name, `archiving policy \`${name}\``);
      const { release } = await repo.archive(c.tenantId, name, personOf(c), clock.now(), ifMatch, compiles(`archiving policy \`${name}\``));
      await sets.refresh(c.tenantId);
      await audit(c, 'policy.policy.archived', name, p.scopes, { previous: p.activeVersion, release });
      return (await repo.get(c.tenantId, name))!;
    },

    async replay(c, req, onProgress) {
      if (!deps.events) throw new WardenError('internal', 'replay needs the audit log, which this service was built without');
      const within = readableScopes(c.grants, REPLAY_ROLES);
      if (within.length === 0) throw new WardenError('auth.forbidden', 'replaying recorded decisions needs `owner`, `admin`, `policy_author` or `auditor`');
      if (req.drafts.length === 0) throw new PolicyInvalid('name at least one draft to replay', [{ path: 'drafts', message: 'empty' }]);
      const replacements = [];
      for (const d of req.drafts) {
        if ('version' in d) {
          await readable(c, d.name);
          const v = await versionOf(c, d.name, d.version);
          replacements.push({ tenantId: c.tenantId, name: d.name, number: v.number, hash: v.hash, path: v.path, source: v.source });
        } else {
          lintManaged(d.name, d.source, deps.load);
          replacements.push({ tenantId: c.tenantId, name: d.name, number: 0, hash: sourceHash(d.source), path: `${d.name}.yaml`, source: d.source });
        }
      }
      const candidate = await sets.candidate(c.tenantId, replacements);
      if (!candidate.set) throw new PolicyInvalid(`the drafts do not compile with the policies in force: ${candidate.errors.join('; ')}`, candidate.errors.map((m) => ({ path: '', message: m })));
      const query = {
        tenant: c.tenantId,
        category: 'decision' as const,
        ...(req.from !== undefined ? { from: req.from } : {}),
        ...(req.to !== undefined ? { to: req.to } : {}),
        ...(req.scope !== undefined ? { scope: req.scope } : {}),
        ...(within.includes(undefined) ? {} : { within: within as string[] }),
      };
      const total = await deps.events.count(query);
      const report = await replayDecisions(deps.events.stream(query, { batchSize: 2000 }), sets.forTenant(c.tenantId), candidate.set, {
        ...(req.samples !== undefined ? { samples: req.samples } : {}),
        ...(onProgress ? { onProgress: (read: number) => onProgress(read, total) } : {}),
      });
      return { ...report, total };
    },

    requiredApprovals(tenantId, scopes) {
      return required(sets.forTenant(tenantId), scopes);
    },
  };
  return service;
}

