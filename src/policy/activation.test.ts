import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Action, Finding } from '../domain/index.js';
import { buildActivation, decisionTime } from './activation.js';
import { toCelValue } from './cel.js';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** The activation as it was built before it was made cheaper (spreads, then conversion), kept as the reference. */
function referenceActivation(action: Action, opts: { now: Date; timezone: string; findings: readonly Finding[] }): Record<string, unknown> {
  const time = decisionTime(action, opts.now);
  const hour = time.getUTCHours();
  const weekday = WEEKDAYS[time.getUTCDay()]!;
  const context = { ...(toCelValue(action.context ?? {}) as Record<string, unknown>), time, hour: BigInt(hour), weekday, timezone: opts.timezone };
  const tool = action.tool ? toCelValue(action.tool) : {};
  return {
    action: { kind: action.kind, scope: action.scope },
    // Labels (none here) come after the caller's fields; an entity the action lacks still has them.
    principal: action.principal ? Object.assign(toCelValue({ roles: [], attributes: {}, ...action.principal }) as object, { labels: [] }) : { labels: [] },
    agent: action.agent ? Object.assign(toCelValue({ attributes: {}, ...action.agent }) as object, { labels: [] }) : { labels: [] },
    tool,
    resource: action.resource ? toCelValue(action.resource) : {},
    server: action.tool ? { name: action.tool.server } : action.resource?.server ? { name: action.resource.server } : {},
    args: toCelValue(action.args ?? {}),
    context,
    findings: toCelValue(opts.findings),
    // Outside a session: no id, no history, no labels.
    session: { id: '', history: [], labels: [] },
  };
}

/**
 * The same value down to key order and prototypes; a prototype set from a `__proto__` field is a
 * fresh object each time, so prototypes are compared the same way, not by identity.
 */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a !== 'object' || a === null || b === null) return Object.is(a, b);
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  const pa = Object.getPrototypeOf(a) as unknown;
  const pb = Object.getPrototypeOf(b) as unknown;
  const standard = (p: unknown) => p === Object.prototype || p === Array.prototype || p === null;
  if (standard(pa) || standard(pb) ? pa !== pb : !same(pa, pb)) return false;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b as object);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k]));
}

// JSON-shaped values, with the keys that behave oddly on plain objects.
const KEYS = ['a', 'time', 'hour', 'weekday', 'timezone', 'roles', 'attributes', 'id', '__proto__', 'constructor', '1', '0'];
const { json } = fc.letrec((tie) => ({
  json: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), tie('list'), tie('obj')),
  list: fc.array(tie('json'), { maxLength: 3 }),
  obj: fc.array(fc.tuple(fc.constantFrom(...KEYS), tie('json')), { maxLength: 4 }).map((pairs) => JSON.parse(JSON.stringify(Object.fromEntries(pairs))) as unknown),
}));
const record = fc.array(fc.tuple(fc.constantFrom(...KEYS), json), { maxLength: 5 }).map((pairs) => {
  // Built through JSON.parse, as a request body is, so `__proto__` is an own key.
  const text = `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
  return JSON.parse(text) as Record<string, unknown>;
});

const action = fc.record({
  principal: fc.option(record, { nil: undefined }),
  agent: fc.option(record, { nil: undefined }),
  tool: fc.option(record, { nil: undefined }),
  args: fc.option(record, { nil: undefined }),
  context: fc.option(record, { nil: undefined }),
});

describe('activation', () => {
  it('compares what it should', () => {
    expect(same({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(same(Object.create({ x: 1 }), {})).toBe(false);
    expect(same(Object.create({ x: 1 }), Object.create({ x: 1 }))).toBe(true);
    expect(same({ d: new Date(1) }, { d: new Date(2) })).toBe(false);
    expect(same({ a: 1n }, { a: 1n })).toBe(true);
  });

  it('is what it was: the same fields, values, key order and prototypes', () => {
    fc.assert(
      fc.property(action, (a) => {
        const act = { kind: 'tool.call', scope: 'acme', ...a } as unknown as Action;
        const opts = { now: new Date('2026-11-24T10:00:00Z'), timezone: 'UTC', findings: [] };
        const got = buildActivation(act, opts);
        const want = referenceActivation(act, opts);
        expect(same(got, want)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
