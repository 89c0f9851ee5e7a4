import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, newAuditEvent, type AuditEvent } from '../domain/index.js';
import { NOT_STRING, fieldsOfEvent, scanBody } from './body-fields.js';
import { chainEvents, eventHash, GENESIS_HASH, hashedText } from './chain.js';
import { jcs, sha256Of } from './jcs.js';

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
      // Arbitrary JSON before and after `integrity` in key order, holding decoy `integrity` members.
      details: fc.oneof(json, fc.record({ integrity: fc.record({ prevHash: fc.string(), seq: fc.nat() }) })),
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

  it('a body scans to the fields JSON.parse reads from it', () => {
    fc.assert(
      fc.property(eventLike, (event) => {
        const { bodies } = chainEvents({ seq: 0, hash: GENESIS_HASH, loggedAt: undefined }, [event], new Date('2026-11-24T12:00:01Z'));
        const body = bodies[0]!;
        expect(scanBody(body)).toEqual(fieldsOfEvent(JSON.parse(body) as AuditEvent));
      }),
    );
  });
});

describe('scanBody', () => {
  const [event] = chainEvents({ seq: 0, hash: GENESIS_HASH, loggedAt: undefined }, [
    newAuditEvent({ scope: 'acme/x', category: 'decision', type: 't', outcome: 'success', actor: { type: 'agent', id: 'a"1' }, details: { integrity: { prevHash: 'decoy', seq: 99 } } }),
  ], new Date()).bodies;

  it('reads the top-level members, not decoys nested before them', () => {
    const f = scanBody(event!)!;
    expect(f).toMatchObject({ seq: '1', prevHash: GENESIS_HASH, actorId: 'a"1', agentId: null, scope: 'acme/x' });
  });

  it('gives up on text not in canonical layout, which the caller then parses in full', () => {
    const body = event!;
    for (const bad of [
      body.replace(',"outcome":', ', "outcome":'),
      body.replace('"scope":"acme/x"', '"scope":"acme/x","scope":"acme/y"'),
      body.replace('{"actor"', '{"zzz":1,"actor"'),
      `${body} `,
      body.slice(0, -1),
      body.slice(0, body.length / 2),
      '[]',
      '',
      'null',
    ]) {
      expect(scanBody(bad), bad).toBeUndefined();
    }
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => void scanBody(s)));
    fc.assert(fc.property(fc.nat({ max: event!.length }), fc.string({ maxLength: 3 }), (at, junk) => void scanBody(event!.slice(0, at) + junk + event!.slice(at))));
  });

  it('marks members that are not strings, and a sequence number that is not a whole number', () => {
    expect(scanBody('{"id":1,"integrity":{"prevHash":null,"seq":1.5},"scope":{"a":[1]}}')).toMatchObject({ id: NOT_STRING, seq: NOT_STRING, prevHash: null, scope: NOT_STRING });
    expect(scanBody('{"integrity":{"seq":"12"}}')).toMatchObject({ seq: NOT_STRING });
  });
});
