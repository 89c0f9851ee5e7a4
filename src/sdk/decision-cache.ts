import type { Action } from '../domain/action.js';
import type { Decision } from '../domain/decision.js';

/**
 * The SDK's local cache of allow decisions: only what Warden marked reusable (`decision.cache`,
 * from a rule's `cache:`), only for the exact same call, only for the lifetime Warden gave, at most
 * `maxEntries` calls (the oldest go first).
 */
export interface DecisionCache {
  get(action: Action): Decision | undefined;
  /** Keeps the decision when Warden marked it reusable and nothing else shaped it; otherwise does nothing. */
  put(action: Action, decision: Decision): void;
  readonly size: number;
}

/** Builds an empty cache. */
export function createDecisionCache(opts: { maxEntries: number; now: () => number }): DecisionCache {
  const entries = new Map<string, { decision: Decision; until: number }>();
  return {
    get(action) {
      const key = keyOf(action);
      const hit = entries.get(key);
      if (hit === undefined) return undefined;
      if (hit.until <= opts.now()) {
        entries.delete(key);
        return undefined;
      }
      return hit.decision;
    },
    put(action, decision) {
      if (!reusable(decision) || opts.maxEntries <= 0) return;
      const key = keyOf(action);
      entries.delete(key);
      entries.set(key, { decision, until: opts.now() + decision.cache!.ttlMs });
      while (entries.size > opts.maxEntries) entries.delete(entries.keys().next().value!);
    },
    get size() {
      return entries.size;
    },
  };
}

/**
 * Whether a decision may be reused: the checkpoint gives `cache` only to such an allow, and the SDK
 * checks again so a server that sends more than it should cannot widen what is cached.
 */
export function reusable(d: Decision): boolean {
  return (
    d.effect === 'allow' &&
    d.cache !== undefined &&
    Number.isInteger(d.cache.ttlMs) &&
    d.cache.ttlMs > 0 &&
    d.redactedArgs === undefined &&
    d.approvalRequest === undefined &&
    d.findings.length === 0 &&
    d.obligations.length === 0 &&
    (d.errors === undefined || d.errors.length === 0)
  );
}

/** Who, where, what and with which arguments: two calls with the same key are the same call. */
function keyOf(a: Action): string {
  return canonical([a.kind, a.scope, a.agent?.id ?? null, a.principal?.id ?? null, a.tool ? [a.tool.server, a.tool.name] : null, a.resource ?? null, a.session?.id ?? null, a.args ?? null]);
}

/** JSON with object keys sorted, so key order never makes two equal calls differ. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
