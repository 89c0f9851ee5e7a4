import { describe, expect, it } from 'vitest';
import { ABSENT, BF, BODY_AT, BODY_KIND, ESCAPED, NUMBER, scanBody, STRING } from './body-scan.js';
import { fieldsOfEvent, NOT_STRING } from './body-fields.js';
import type { AuditEvent } from '../domain/index.js';

const canonical = {
  action: { kind: 'tool.call' },
  actor: { id: 'agent-1', type: 'agent' },
  agent: { id: 'agent-1', kind: 'x' },
  category: 'decision',
  decision: { effect: 'deny', reasons: [{ rule: 'r', version: 3 }], warnings: [] },
  id: '019bb27f-359c-7c81-b52c-581fbd3f9ea7',
  integrity: { prevHash: `sha256:${'0'.repeat(64)}`, seq: 12 },
  latencyMs: 3.5e-2,
  loggedAt: '2026-12-07T12:03:19.667Z',
  onBehalfOf: { id: 'user-1', roles: ['dev'] },
  outcome: 'success',
  payload: { args: { category: 'nested, not read', agent: { id: 'no' }, deep: [[[{ a: null }]]], t: true, f: false, n: -0.5e+3 } },
  scope: 'acme/ü/🙂',
  target: { kind: 'tool', name: 'db.query', server: 'ops' },
  tenantId: 'default',
  time: '2026-01-01T00:00:00.000Z',
  type: 'tool.call.decided',
};

/** What scanBody read, as fieldsOfEvent would say it: a string, null (absent), or NOT_STRING. */
function scanned(text: string): Record<string, unknown> | undefined {
  const buf = Buffer.from(`xx${text}yy`);
  if (!scanBody(buf, 2, buf.length - 2)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(BF)) {
    const kind = BODY_KIND[f];
    const value = buf.toString('utf8', BODY_AT[2 * f]!, BODY_AT[2 * f + 1]!);
    if (kind === ABSENT) out[name] = null;
    // fieldsOfEvent's seq is a number's text; any other member is a string's value.
    else if (name === 'seq') out[name] = kind === NUMBER ? String(Number(value)) : NOT_STRING;
    else out[name] = kind === STRING ? value : kind === ESCAPED ? (JSON.parse(`"${value}"`) as string) : NOT_STRING;
  }
  return out;
}

function parsed(text: string): Record<string, unknown> | undefined {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined;
  return { ...fieldsOfEvent(o as AuditEvent) };
}

describe('scanBody', () => {
  const body = JSON.stringify(canonical);

  it('reads the members the columns derive from as JSON.parse does, in a range of a larger buffer', () => {
    expect(scanned(body)).toEqual(parsed(body));
    expect(scanned(body)).toMatchObject({ category: 'decision', seq: '12', scope: 'acme/ü/🙂', agentId: 'agent-1', targetName: 'db.query' });
  });

  it('reads absent, null, non-string and non-object parents as the SQL derivation does', () => {
    const variants = [
      { ...canonical, agent: null, category: 7, outcome: null, target: 'tool', decision: [] },
      { ...canonical, actor: { type: 'agent', id: { x: 1 } }, integrity: { seq: '12', prevHash: null } },
      { id: 'x' },
      {},
    ];
    for (const v of variants) {
      const text = JSON.stringify(v);
      expect(scanned(text), text).toEqual(parsed(text));
    }
  });

  it('refuses what it cannot read with certainty: whitespace, duplicates of read members, escaped keys', () => {
    expect(scanned(body.replace(',"outcome":', ', "outcome":'))).toBeUndefined();
    expect(scanned(body.replace('{"action"', '{"category":"other","action"'))).toBeUndefined();
    expect(scanned(body.replace('"integrity":{', '"integrity":{"seq":1,'))).toBeUndefined();
    expect(scanned(body.replace('"category"', '"\\u0063ategory"'))).toBeUndefined();
    // A duplicate of a member not read is JSON.parse's business alone.
    const dup = body.replace('"latencyMs"', '"latencyMs":1,"latencyMs"');
    expect(scanned(dup)).toEqual(parsed(dup));
  });

  it('refuses every text that is not a JSON object', () => {
    const bad = ['', 'garbage', '[]', '"x"', '{', '{}}', '{"a":}', '{"a":1,}', '{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":1e}', '{"a":tru}', '{"a":"\u0001"}', '{"a":"\\x"}', '{"a":"\\u12g4"}', '{"a":[1,]}', '{"a" :1}', `${body} `, '{"a":"unterminated}'];
    for (const text of bad) expect(scanned(text), text).toBeUndefined();
  });

  it('marks a read string with escapes, whose bytes are not its value', () => {
    const text = JSON.stringify({ ...canonical, type: 'a"b\\c\n' });
    const buf = Buffer.from(text);
    expect(scanBody(buf, 0, buf.length)).toBe(true);
    expect(BODY_KIND[BF.type]).toBe(ESCAPED);
    expect(scanned(text)).toEqual(parsed(text));
  });

  it('agrees with JSON.parse on random mutations of a body', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = '{}[]",:\\0123456789.eE+-truefalsn aé';
    for (let k = 0; k < 3000; k++) {
      const chars = [...body];
      for (let m = 1 + rand(3); m > 0; m--) chars.splice(rand(chars.length), rand(2), alphabet[rand(alphabet.length)]!);
      const text = chars.join('');
      const s = scanned(text);
      // Certain only where JSON.parse reads the same members; refusing is always allowed.
      if (s !== undefined) expect(s, text).toEqual(parsed(text));
    }
  });
});
