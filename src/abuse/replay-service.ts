import { WardenError, type AuditEvent } from '../domain/index.js';
import { ABUSE_READERS, AUDIT_BODY_READERS, holdsAt, readableScopes, type Credential } from '../identity/index.js';
import { formatDiagnostic } from '../policy/index.js';
import { DEFAULT_PACK } from './default-pack.js';
import { replayAbuseRules, type AbuseReplayReport } from './replay.js';
import { loadAbuseSources, type AbuseRuleSet, type AbuseRuleSource } from './rule-compile.js';
import { createMemoryVelocity } from './velocity.js';

/** The filters abuse replay reads the audit log with, as `AuditQuery` spells them. */
export interface AbuseReplayQuery {
  tenant: string;
  from?: string;
  to?: string;
  scope?: string;
  within?: readonly string[];
}

/** The audit log as abuse replay reads it: one tenant's events, in time order with `oldestFirst`. (src/store's AuditRepo implements it.) */
export interface AbuseReplayLog {
  stream(query: AbuseReplayQuery, opts?: { batchSize?: number; oldestFirst?: boolean }): AsyncIterable<AuditEvent>;
  count(query: AbuseReplayQuery): Promise<number>;
}

/** What to replay: rule files (and the default pack) over a range of recorded events. */
export interface AbuseReplayRequest {
  sources: readonly AbuseRuleSource[];
  /** Run the default pack beside the files. @default false */
  defaultPack?: boolean | undefined;
  /** Inclusive start (RFC 3339). */
  from?: string | undefined;
  /** Exclusive end (RFC 3339). */
  to?: string | undefined;
  /** Only events at this scope and below. */
  scope?: string | undefined;
  /** Hits shown per rule. @default 5 */
  samples?: number | undefined;
}

/** The report, with how many events the range held when the replay began. */
export type AbuseReplayAnswer = AbuseReplayReport & { total: number };

/** Events of a scope where the caller may not read call bodies, without them: a rule must not read what its author could not. */
function withoutBodies(e: AuditEvent): AuditEvent {
  if (!e.payload || (e.payload.args === undefined && e.payload.result === undefined)) return e;
  const { args: _a, result: _r, ...payload } = e.payload;
  return { ...e, payload };
}

async function* readable(events: AsyncIterable<AuditEvent>, c: Credential): AsyncIterable<AuditEvent> {
  for await (const e of events) yield holdsAt(c.grants, AUDIT_BODY_READERS, e.scope) ? e : withoutBodies(e);
}

/**
 * The rules a replay runs, or why it may not run: the caller needs one of {@link ABUSE_READERS}
 * somewhere (`auth.forbidden`), and the rules must compile (`abuse.rule_invalid`, one
 * `file:line:col` line per error). Cheap, so a streaming answer can check it before it begins.
 */
export function abuseReplayRules(c: Credential, req: Pick<AbuseReplayRequest, 'sources' | 'defaultPack'>): AbuseRuleSet {
  if (readableScopes(c.grants, ABUSE_READERS).length === 0) throw new WardenError('auth.forbidden', 'replaying abuse rules needs `owner`, `admin`, `analyst` or `auditor`');
  const sources = [...(req.defaultPack ? DEFAULT_PACK : []), ...req.sources];
  if (sources.length === 0) throw new WardenError('request.invalid', 'name the rules to replay: rule files, or the default pack');
  const loaded = loadAbuseSources(sources);
  if (!loaded.set) {
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    throw new WardenError('abuse.rule_invalid', `the abuse rules do not load:\n${errors.join('\n')}`, { help: 'fix the documents named (docs/abuse.md has the rule language)' });
  }
  return loaded.set;
}

/**
 * `warden abuse replay`: runs draft rules over the caller's tenant's recorded events, at the scopes
 * where one of {@link ABUSE_READERS} holds, on a fresh in-memory velocity store, and reports what
 * each would have hit. Nothing is applied and nothing is written. A caller who may not read captured
 * arguments at an event's scope replays it without them (counted in `withoutArgs`).
 */
export async function replayAbuse(deps: { audit: AbuseReplayLog }, c: Credential, req: AbuseReplayRequest, onProgress?: (read: number, total: number) => void): Promise<AbuseReplayAnswer> {
  const set = abuseReplayRules(c, req);
  const within = readableScopes(c.grants, ABUSE_READERS);
  const query: AbuseReplayQuery = {
    tenant: c.tenantId,
    ...(req.from !== undefined ? { from: req.from } : {}),
    ...(req.to !== undefined ? { to: req.to } : {}),
    ...(req.scope !== undefined ? { scope: req.scope } : {}),
    ...(within.includes(undefined) ? {} : { within: within.filter((s): s is string => s !== undefined) }),
  };
  const total = await deps.audit.count(query);
  const velocity = createMemoryVelocity();
  try {
    const report = await replayAbuseRules(readable(deps.audit.stream(query, { batchSize: 2000, oldestFirst: true }), c), set, {
      velocity,
      ...(req.samples !== undefined ? { samples: req.samples } : {}),
      ...(onProgress ? { onProgress: (read: number) => onProgress(read, total) } : {}),
    });
    return { ...report, total };
  } finally {
    await velocity.close();
  }
}
