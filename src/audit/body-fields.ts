import type { AuditEvent } from '../domain/index.js';

/** A member that is present but not a JSON string (a number, boolean, object or array). */
export const NOT_STRING: unique symbol = Symbol('not a string');

/** A member's value as a column sees it: a string, absent (or JSON null), or something else. */
export type FieldValue = string | null | typeof NOT_STRING;

/**
 * The members of an event body that its indexed columns and the verifier read. Nested ones are
 * null when their parent is absent or not an object, as `e->'agent'->>'id'` is in SQL.
 */
export interface BodyFields {
  id: FieldValue;
  time: FieldValue;
  loggedAt: FieldValue;
  tenantId: FieldValue;
  category: FieldValue;
  type: FieldValue;
  scope: FieldValue;
  outcome: FieldValue;
  actionKind: FieldValue;
  agentId: FieldValue;
  actorType: FieldValue;
  actorId: FieldValue;
  principalId: FieldValue;
  server: FieldValue;
  targetKind: FieldValue;
  targetName: FieldValue;
  effect: FieldValue;
  /** `integrity.seq` as its JSON number text (`"12"`); NOT_STRING when it is not a number. */
  seq: FieldValue;
  prevHash: FieldValue;
}

function emptyFields(): BodyFields {
  return {
    id: null, time: null, loggedAt: null, tenantId: null, category: null, type: null, scope: null, outcome: null, actionKind: null,
    agentId: null, actorType: null, actorId: null, principalId: null, server: null, targetKind: null, targetName: null, effect: null, seq: null, prevHash: null,
  };
}

const valueOf = (v: unknown): FieldValue => (v === undefined || v === null ? null : typeof v === 'string' ? v : NOT_STRING);
const nested = (o: unknown, k: string): FieldValue =>
  o !== null && typeof o === 'object' && !Array.isArray(o) ? valueOf((o as Record<string, unknown>)[k]) : null;

/** The same fields, read from an event object (the writer's, or a parsed body). */
export function fieldsOfEvent(e: AuditEvent): BodyFields {
  const r = e as unknown as Record<string, unknown>;
  const seq = nested(r.integrity, 'seq');
  const rawSeq = (r.integrity as { seq?: unknown } | undefined)?.seq;
  return {
    id: valueOf(r.id), time: valueOf(r.time), loggedAt: valueOf(r.loggedAt), tenantId: valueOf(r.tenantId), category: valueOf(r.category),
    type: valueOf(r.type), scope: valueOf(r.scope), outcome: valueOf(r.outcome), actionKind: nested(r.action, 'kind'),
    agentId: nested(r.agent, 'id'), actorType: nested(r.actor, 'type'), actorId: nested(r.actor, 'id'), principalId: nested(r.onBehalfOf, 'id'),
    server: nested(r.target, 'server'), targetKind: nested(r.target, 'kind'), targetName: nested(r.target, 'name'), effect: nested(r.decision, 'effect'),
    // A number prints as canonical JSON does (ES form), so it compares with the scanned text.
    seq: typeof rawSeq === 'number' && Number.isFinite(rawSeq) ? String(rawSeq) : seq === null ? null : NOT_STRING,
    prevHash: nested(r.integrity, 'prevHash'),
  };
}

// Which members of which objects are read; everything else is skipped unparsed.
type Sink = Partial<Record<string, keyof BodyFields>>;
const TOP: Sink = { id: 'id', time: 'time', loggedAt: 'loggedAt', tenantId: 'tenantId', category: 'category', type: 'type', scope: 'scope', outcome: 'outcome' };
const OBJECTS: Partial<Record<string, Sink>> = {
  action: { kind: 'actionKind' },
  agent: { id: 'agentId' },
  actor: { type: 'actorType', id: 'actorId' },
  onBehalfOf: { id: 'principalId' },
  target: { server: 'server', kind: 'targetKind', name: 'targetName' },
  decision: { effect: 'effect' },
  integrity: { seq: 'seq', prevHash: 'prevHash' },
};

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;

class Unreadable extends Error {}
const fail = (): never => {
  throw new Unreadable();
};

/** Index just past the string literal that opens at `i`. */
function skipString(s: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const k = s.indexOf('"', j);
    if (k < 0) return fail();
    let b = 0;
    for (let m = k - 1; s.charCodeAt(m) === BACKSLASH; m--) b++;
    if ((b & 1) === 0) return k + 1;
    j = k + 1;
  }
}

function readString(s: string, i: number): [string, number] {
  const end = skipString(s, i);
  const raw = s.slice(i + 1, end - 1);
  // Escapes are rare; JSON.parse of the literal decodes them exactly.
  return [raw.includes('\\') ? (JSON.parse(s.slice(i, end)) as string) : raw, end];
}

/** Index just past the value that starts at `i` (any JSON value), without decoding it. */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return skipString(s, i);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 1;
    let j = i + 1;
    while (depth > 0) {
      if (j >= s.length) fail();
      const d = s.charCodeAt(j);
      if (d === QUOTE) {
        j = skipString(s, j);
        continue;
      }
      if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
      else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) depth--;
      j++;
    }
    return j;
  }
  let j = i;
  while (j < s.length) {
    const d = s.charCodeAt(j);
    if (d === COMMA || d === CLOSE_OBJECT || d === CLOSE_ARRAY) break;
    j++;
  }
  if (j === i) fail();
  return j;
}

/**
 * Walks the members of the object that opens at `i`, in canonical form (no whitespace, keys in
 * strictly increasing order, so no key twice), calling `visit` on each; returns the index past it.
 */
function walkObject(s: string, i: number, visit: (key: string, at: number) => number): number {
  if (s.charCodeAt(i) !== OPEN_OBJECT) fail();
  let j = i + 1;
  if (s.charCodeAt(j) === CLOSE_OBJECT) return j + 1;
  let previous: string | undefined;
  for (;;) {
    if (s.charCodeAt(j) !== QUOTE) fail();
    const [key, afterKey] = readString(s, j);
    if (previous !== undefined && !(previous < key)) fail();
    previous = key;
    if (s.charCodeAt(afterKey) !== COLON) fail();
    j = visit(key, afterKey + 1);
    const c = s.charCodeAt(j);
    if (c === CLOSE_OBJECT) return j + 1;
    if (c !== COMMA) fail();
    j++;
  }
}

function readField(s: string, i: number, out: BodyFields, field: keyof BodyFields): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) {
    const [v, end] = readString(s, i);
    out[field] = field === 'seq' ? NOT_STRING : v;
    return end;
  }
  const end = skipValue(s, i);
  const token = s.slice(i, end);
  if (token === 'null') out[field] = null;
  // The sequence number is a JSON number; kept as its text.
  else out[field] = field === 'seq' && /^(0|[1-9][0-9]*)$/.test(token) ? token : NOT_STRING;
  return end;
}

/**
 * Reads the fields of a stored canonical event body without parsing the rest of it. Exact for
 * any JSON text in canonical layout (what the writer stores); undefined for a text it cannot
 * read that way (whitespace, keys out of order or repeated, not JSON), which the caller then
 * parses in full. It does not validate the members it skips: a body is proven by its hash.
 */
export function scanBody(s: string): BodyFields | undefined {
  const out = emptyFields();
  try {
    const end = walkObject(s, 0, (key, at) => {
      const field = TOP[key];
      if (field) return readField(s, at, out, field);
      const sink = OBJECTS[key];
      if (!sink) return skipValue(s, at);
      // Members of a non-object stay null, as `->` on a non-object is in SQL.
      if (s.charCodeAt(at) !== OPEN_OBJECT) return skipValue(s, at);
      return walkObject(s, at, (k, v) => {
        const f = sink[k];
        return f ? readField(s, v, out, f) : skipValue(s, v);
      });
    });
    return end === s.length ? out : undefined;
  } catch (err) {
    if (err instanceof Unreadable || err instanceof SyntaxError) return undefined;
    throw err;
  }
}
