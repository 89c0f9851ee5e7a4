import { formatDiagnostic, loadPolicySources, type PolicyLoadOptions, type PolicySet, type PolicySource } from '../policy/index.js';
import type { ActiveSource, PolicyRepo } from './records.js';
import { releaseOf } from './release.js';

/** The release of a tenant with no active managed version: nothing to build. */
const NOTHING = releaseOf([]);

/** No policy and no scope default: every action is denied by the built-in default. */
const DENY_ALL: PolicySet = loadPolicySources([]).set!;

/** The file name a managed version compiles under: what diagnostics and `PolicySummary.file` show. */
export function managedFile(name: string, number: number): string {
  return `managed:${name}@${number}`;
}

/** What a tenant's set was built from, and why its last rebuild failed if it did. */
export interface TenantSetStatus {
  version: string;
  loadedAt: string;
  policies: PolicySet['policies'];
  lastError: { at: string; messages: string[] } | undefined;
}

/** The file policies the sets build on (the watcher of `--policies`, or a fixed empty set). */
export interface FileSets {
  current(): PolicySet;
  sources(): readonly PolicySource[];
  onChange?(listener: () => void): void;
  /** Why the files on disk fail to load, while they do. */
  status?(): { lastError: TenantSetStatus['lastError'] };
}

/** How the tenant sets learn that another replica changed a release. */
export interface ReleaseFeed {
  /** Calls `onTenant` for every announced change (NOTIFY); resolves once listening. */
  listen(onTenant: (tenantId: string) => void): Promise<void>;
  close(): Promise<void>;
}

export interface TenantPolicySets {
  /** The set of tenant `default`. */
  current(): PolicySet;
  forTenant(tenantId: string): PolicySet;
  status(tenantId: string): TenantSetStatus;
  /** Rebuilds one tenant's set (or every tenant's) from the store; resolves when it is in force. */
  refresh(tenantId?: string): Promise<void>;
  /** Compiles the file policies with exactly these active sources: what a tenant's set would be. */
  compileWith(active: readonly ActiveSource[]): { set: PolicySet | undefined; errors: string[] };
  /** Compiles the set a tenant would have with each of `replacements` in place of its managed policy of that name (added where there is none). */
  candidate(tenantId: string, replacements: readonly ActiveSource[]): Promise<{ set: PolicySet | undefined; errors: string[] }>;
  close(): Promise<void>;
}

interface Options {
  files: FileSets;
  repo: Pick<PolicyRepo, 'activeSources' | 'releases'>;
  now: () => Date;
  feed?: ReleaseFeed | undefined;
  /** The polling backstop for a missed notification (a dropped LISTEN connection). 0: off. @default 5000 */
  pollMs?: number;
  logger: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** What lint and compile are told besides the sources (the status check allow-list). @default {} */
  load?: PolicyLoadOptions;
}

/**
 * Every tenant's policy set: the file policies plus the tenant's active managed versions, compiled
 * together and swapped atomically (a decision reads one set once). A tenant with no managed policy
 * shares the file set. A rebuild that fails to compile (a file reload that now collides with a
 * managed policy's name, say) keeps the tenant's last good set and says why in `status`; with no good
 * set to keep (at start), the tenant is denied everything until it compiles again (fail closed).
 */
export async function createTenantPolicySets(opts: Options): Promise<TenantPolicySets> {
  const sets = new Map<string, { set: PolicySet; release: string; loadedAt: string; lastError: TenantSetStatus['lastError']; sources: ActiveSource[] }>();
  const fileLoadedAt = opts.now().toISOString();
  let closed = false;

  const compile = (managed: readonly ActiveSource[]) =>
    loadPolicySources([...opts.files.sources(), ...managed.map((m) => ({ file: managedFile(m.name, m.number), text: m.source }))], opts.load);

  const compileChecked = (active: readonly ActiveSource[]) => {
    const r = compile(active);
    return { set: r.set, errors: r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic) };
  };

  const rebuild = (tenantId: string, managed: ActiveSource[], release: string) => {
    const prev = sets.get(tenantId);
    if (managed.length === 0) {
      sets.delete(tenantId);
      return;
    }
    const r = compile(managed);
    if (!r.set) {
      const messages = r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      opts.logger.warn({ tenant: tenantId, errors: messages }, 'managed policies failed to compile with the file policies; keeping the last good set');
      if (prev) prev.lastError = { at: opts.now().toISOString(), messages };
      // No good set of this tenant to keep (the process just started): fail closed. The files alone
      // would drop the tenant's own denies; the empty set denies everything (no scope default).
      else sets.set(tenantId, { set: DENY_ALL, release, loadedAt: opts.now().toISOString(), lastError: { at: opts.now().toISOString(), messages }, sources: managed });
      return;
    }
    sets.set(tenantId, { set: r.set, release, loadedAt: opts.now().toISOString(), lastError: undefined, sources: managed });
  };

  // One rebuild at a time, in order: a notification and the poll never interleave two swaps.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = (fn: () => Promise<void>): Promise<void> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => {});
    return next;
  };

  const load = async (tenantId?: string) => {
    const [active, releases] = await Promise.all([opts.repo.activeSources(tenantId), opts.repo.releases()]);
    const byTenant = new Map<string, ActiveSource[]>();
    for (const a of active) {
      const list = byTenant.get(a.tenantId);
      if (list) list.push(a);
      else byTenant.set(a.tenantId, [a]);
    }
    const tenants = tenantId === undefined ? new Set([...byTenant.keys(), ...sets.keys()]) : new Set([tenantId]);
    for (const t of tenants) {
      const release = releases.get(t) ?? NOTHING;
      const known = sets.get(t);
      if (known && known.release === release && known.lastError === undefined) continue;
      rebuild(t, byTenant.get(t) ?? [], release);
    }
  };

  const refresh = (tenantId?: string) => serial(() => load(tenantId));
  await refresh();

  // A file reload rebuilds every tenant that has managed policies, over the new files.
  opts.files.onChange?.(() => {
    void serial(async () => {
      for (const [t, s] of [...sets]) rebuild(t, s.sources, s.release);
    });
  });

  await opts.feed?.listen((tenantId) => {
    if (!closed) refresh(tenantId === '*' ? undefined : tenantId).catch((err: unknown) => opts.logger.warn({ err: String(err), tenant: tenantId }, 'policy refresh after a notification failed'));
  });

  // The backstop: compare releases, rebuild the tenants whose release moved.
  const pollMs = opts.pollMs ?? 5000;
  const poll =
    pollMs > 0
      ? setInterval(() => {
          void serial(async () => {
            const releases = await opts.repo.releases();
            for (const [t, release] of releases) if ((sets.get(t)?.release ?? NOTHING) !== release) await load(t);
            for (const t of [...sets.keys()]) if (!releases.has(t)) await load(t);
          }).catch((err: unknown) => opts.logger.warn({ err: String(err) }, 'policy release poll failed'));
        }, pollMs)
      : undefined;
  poll?.unref();

  return {
    current: () => sets.get('default')?.set ?? opts.files.current(),
    forTenant: (tenantId) => sets.get(tenantId)?.set ?? opts.files.current(),
    status(tenantId) {
      const s = sets.get(tenantId);
      const set = s?.set ?? opts.files.current();
      return { version: set.version, loadedAt: s?.loadedAt ?? fileLoadedAt, policies: set.policies, lastError: s?.lastError ?? opts.files.status?.().lastError };
    },
    refresh,
    compileWith: compileChecked,
    async candidate(tenantId, replacements) {
      const replaced = new Set(replacements.map((r) => r.name));
      const current = (await opts.repo.activeSources(tenantId)).filter((a) => !replaced.has(a.name));
      return compileChecked([...current, ...replacements]);
    },
    async close() {
      closed = true;
      if (poll) clearInterval(poll);
      await opts.feed?.close();
    },
  };
}

