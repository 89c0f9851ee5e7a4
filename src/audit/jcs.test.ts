import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, newAuditEvent, type AuditEvent } from '../domain/index.js';
import { NOT_STRING, fieldsOfEvent } from './body-fields.js';
import { chainEvents, eventHash, GENESIS_HASH, hashedText, prepareEvent } from './chain.js';
import { jcs, sha256Of } from './jcs.js';
import { sanitizeForLog } from './sanitize.js';

// Any JSON, with strings over all of Unicode (astral characters sort by UTF-16 code unit in RFC 8785).
const json = fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' });

describe('jcs: the chain canonicalizer prints what canonicalJson prints', () => {
  it('on any JSON value', () => {
    fc.assert(fc.property(json, (v) => jcs(v) === canonicalJson(v)));
  });

  it('on the edges: number forms, key order, skipped members, toJSON', () => {
    const cases: unknown[] = [
      { b: 1, a: [1e21, 0.1 + 0.2, -0, 5e-7, 2 ** 53, -1.5], c: 'é' },
      // Array-index keys enumerate numerically in JS; RFC 8785 orders them as strings.
      { '10': 1, '9': 2, '': 3, a: 4 },
      { '\u{1F600}': 1, '\uFFFF': 2, '\u00e9': 3 },
      { u: undefined, s: 'x', n: null, arr: [undefined, 1] },
      { when: new Date('2026-11-24T12:00:00Z') },
      'a "quoted" \\ line\nwith\u0001control\u2028',
      [],
      {},
    ];
    for (const c of cases) expect(jcs(c)).toBe(canonicalJson(c));
  });

  it('refuses what has no canonical form, as canonicalJson does', () => {
    for (const bad of [Number.NaN, Infinity, { x: -Infinity }, '\ud800', { ['\udc00']: 1 }, ['a\ud800b'], undefined, 1n, () => 1]) {
      expect(() => jcs(bad)).toThrow(TypeError);
      expect(() => canonicalJson(bad)).toThrow();
    }
  });

  it('hashes UTF-8 bytes like a Hash object', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => sha256Of(s) === `sha256:${createHash('sha256').update(s, 'utf8').digest('hex')}`));
  });
});

/** An event as the writer may see one: schema fields present, absent, of the wrong type, and arbitrary JSON elsewhere. */
const eventLike = fc
  .record(
    {
      scope: fc.string(),
      category: fc.oneof(fc.constant('decision'), fc.string()),
      type: fc.string(),
      outcome: fc.constant('success'),
      actor: fc.record({ type: fc.oneof(fc.constant('agent'), fc.constant('user'), json), id: fc.oneof(fc.string({ unit: 'binary' }), json) }, { requiredKeys: [] }),
      agent: fc.oneof(fc.record({ id: fc.oneof(fc.string(), json), kind: fc.string() }, { requiredKeys: [] }), json),
      onBehalfOf: fc.record({ id: fc.string({ unit: 'binary' }) }),
      target: fc.record({ kind: fc.oneof(fc.constant('tool'), fc.string()), server: fc.string(), name: fc.oneof(fc.string(), json) }, { requiredKeys: [] }),
      action: fc.oneof(fc.record({ kind: fc.string() }), json),
      decision: fc.record({ effect: fc.oneof(fc.constant('deny'), json), reasons: json }, { requiredKeys: [] }),
      // Arbitrary JSON before and after `integrity` in key order; array-index keys (which JS
      // enumerates first), keys and strings the writer must clean (NUL, lone surrogates).
      details: fc.oneof(
        json,
        fc.record({ integrity: fc.record({ prevHash: fc.string(), seq: fc.nat() }) }),
        fc.dictionary(fc.oneof(fc.nat({ max: 20 }).map(String), fc.constantFrom('-a', 'b', '~', '\u0000k', 'k\u0000', '\ud800', '__proto__')), fc.oneof(json, fc.constantFrom('a\u0000b', '\udc00', 'x\ud800y'))),
      ),
      findings: json,
      payload: fc.record({ args: json, result: json }, { requiredKeys: [] }),
      latencyMs: fc.double({ noNaN: true, noDefaultInfinity: true }),
      correlationId: fc.string(),
    },
    { requiredKeys: ['scope', 'category', 'type', 'outcome'] },
  )
  .map((input) => newAuditEvent(input as unknown as Parameters<typeof newAuditEvent>[0], new Date('2026-11-24T12:00:00Z')));

describe('chain: bodies the store keeps', () => {
  it('hash as canonicalJson of the event without its hash did before, so every stored hash still verifies', () => {
    fc.assert(
      fc.property(fc.array(eventLike, { minLength: 1, maxLength: 4 }), (events) => {
        const r = chainEvents({ seq: 7, hash: `sha256:${'a'.repeat(64)}`, loggedAt: undefined }, events, new Date('2026-11-24T12:00:01Z'));
        r.events.forEach((e, i) => {
          const { integrity, ...rest } = e;
          const before = canonicalJson({ ...rest, integrity: { seq: integrity!.seq, prevHash: integrity!.prevHash } });
          expect(r.bodies[i]).toBe(before);
          expect(hashedText(e)).toBe(before);
          expect(integrity!.hash).toBe(sha256Of(before));
          expect(eventHash(e)).toBe(integrity!.hash);
        });
      }),
    );
  });

  it('cleans what sanitizeForLog cleans, and prints the canonical JSON of the cleaned event', () => {
    fc.assert(
      fc.property(eventLike, (event) => {
        const p = prepareEvent(event);
        expect(p.event).toEqual(sanitizeForLog(event));
        const r = chainEvents({ seq: 0, hash: GENESIS_HASH, loggedAt: undefined }, [event], new Date('2026-11-24T12:00:01Z'));
        const { integrity, ...rest } = r.events[0]!;
        expect(r.bodies[0]).toBe(canonicalJson({ ...sanitizeForLog(rest), integrity: { seq: integrity!.seq, prevHash: integrity!.prevHash } }));
      }),
    );
  });

  it('refuses an event with a value canonical JSON has no form for', () => {
    const base = newAuditEvent({ scope: 'a', category: 'decision', type: 't', outcome: 'success', actor: { type: 'agent', id: 'a' } });
    for (const bad of [Number.NaN, Infinity, 1n, () => 1]) expect(() => prepareEvent({ ...base, details: { x: [bad] } })).toThrow(TypeError);
  });

  it('a body parses to the fields the writer derived its columns from', () => {
    fc.assert(
      fc.property(eventLike, (event) => {
        const r = chainEvents({ seq: 0, hash: GENESIS_HASH, loggedAt: undefined }, [event], new Date('2026-11-24T12:00:01Z'));
        expect(fieldsOfEvent(JSON.parse(r.bodies[0]!) as AuditEvent)).toEqual(fieldsOfEvent(r.events[0]!));
      }),
    );
  });
});

describe('fieldsOfEvent', () => {
  it('reads nested members as SQL does, null under a parent that is not an object', () => {
    const e = JSON.parse('{"id":1,"agent":"a","actor":{"type":"agent","id":"x"},"target":[{"name":"t"}],"integrity":{"prevHash":null,"seq":1.5},"scope":{"a":[1]}}') as AuditEvent;
    expect(fieldsOfEvent(e)).toMatchObject({ id: NOT_STRING, agentId: null, actorId: 'x', targetName: null, seq: '1.5', prevHash: null, scope: NOT_STRING });
    expect(fieldsOfEvent(JSON.parse('{"integrity":{"seq":"12"}}') as AuditEvent)).toMatchObject({ seq: NOT_STRING });
  });
});
