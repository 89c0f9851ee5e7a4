import { describe, expect, it } from 'vitest';
import type { Action } from '../domain/action.js';
import type { Decision } from '../domain/decision.js';
import { createDecisionCache, reusable } from './decision-cache.js';
import { backoffMs, retryAfterOf } from './http.js';

const allow = (extra: Partial<Decision> = {}): Decision => ({ effect: 'allow', reasons: [], warnings: [], findings: [], obligations: [], cache: { ttlMs: 1000 }, ...extra });
const call = (args: Record<string, unknown>, extra: Partial<Action> = {}): Action => ({ kind: 'tool.call', scope: 'acme/app', tool: { server: 'app', name: 'files.read' }, args, ...extra });

describe('the decision cache', () => {
  it('answers the same call, whatever its key order, until the lifetime Warden gave runs out', () => {
    let now = 0;
    const cache = createDecisionCache({ maxEntries: 10, now: () => now });
    cache.put(call({ a: 1, b: { c: 2, d: 3 } }), allow());
    expect(cache.get(call({ b: { d: 3, c: 2 }, a: 1 }))).toBeDefined();
    now = 999;
    expect(cache.get(call({ a: 1, b: { c: 2, d: 3 } }))).toBeDefined();
    now = 1000;
    expect(cache.get(call({ a: 1, b: { c: 2, d: 3 } }))).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('tells apart calls of another agent, principal, scope, tool or arguments', () => {
    const cache = createDecisionCache({ maxEntries: 10, now: () => 0 });
    cache.put(call({ a: 1 }, { agent: { id: 'agent-1' } }), allow());
    for (const other of [call({ a: 1 }, { agent: { id: 'agent-2' } }), call({ a: 1 }, { agent: { id: 'agent-1' }, principal: { id: 'p' } }), call({ a: 1 }, { agent: { id: 'agent-1' }, scope: 'acme/other' }), call({ a: 2 }, { agent: { id: 'agent-1' } }), call({ a: 1 }, { agent: { id: 'agent-1' }, tool: { server: 'app', name: 'files.write' } })]) {
      expect(cache.get(other)).toBeUndefined();
    }
    expect(cache.get(call({ a: 1 }, { agent: { id: 'agent-1' } }))).toBeDefined();
  });

  it('keeps only what Warden marked reusable and nothing shaped, and at most maxEntries calls', () => {
    const cache = createDecisionCache({ maxEntries: 2, now: () => 0 });
    const refused: Decision[] = [
      allow({ cache: undefined }),
      allow({ effect: 'deny' }),
      allow({ redactedArgs: { a: '[REDACTED:secret]' } }),
      allow({ obligations: [{ type: 'redact' }] }),
      allow({ errors: [{ policy: 'p', version: 1, rule: 'r', message: 'x', treatedAs: false }] }),
      allow({ cache: { ttlMs: 0 } }),
    ];
    for (const [i, d] of refused.entries()) {
      expect(reusable(d)).toBe(false);
      cache.put(call({ i }), d);
    }
    expect(cache.size).toBe(0);
    for (const i of [1, 2, 3]) cache.put(call({ i }), allow());
    expect(cache.size).toBe(2);
    expect(cache.get(call({ i: 1 }))).toBeUndefined();
    expect(cache.get(call({ i: 3 }))).toBeDefined();
  });
});

describe('backoff and Retry-After', () => {
  it('waits between half of and all of min(max, base·2ⁿ)', () => {
    const at = (r: number, n: number) => backoffMs({ backoffBaseMs: 100, backoffMaxMs: 1000, random: () => r }, n);
    expect([at(0, 0), at(0.999, 0), at(0, 3), at(0.999, 3), at(0, 10), at(0.999, 10)]).toEqual([50, 100, 400, 800, 500, 1000]);
  });

  it('reads delta-seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    expect(retryAfterOf('3', now)).toBe(3000);
    expect(retryAfterOf('Mon, 07 Dec 2026 12:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterOf('Mon, 07 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterOf('soon', now)).toBeUndefined();
    expect(retryAfterOf(null, now)).toBeUndefined();
  });
});
