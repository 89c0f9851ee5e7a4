/**
 * Where the members that an event's indexed columns derive from sit in its stored body's UTF-8
 * bytes, found by one validating pass that builds nothing: parsing every body into an object was
 * most of what verifying a long chain cost (the parse itself and the garbage it left).
 *
 * It answers only for bodies it reads with certainty: a JSON object as `JSON.parse` reads it, no
 * whitespace, no member the columns read given twice, no escaped key at the levels it reads (an
 * escape could spell a member's name). Anything else is `false`, and the caller reads the body the
 * slow way; a body this accepts is one `JSON.parse` accepts, with the same values.
 */

/** The fields read, by their slot in `BODY_KIND` and `BODY_AT`. */
export const BF = {
  id: 0,
  time: 1,
  loggedAt: 2,
  tenantId: 3,
  category: 4,
  type: 5,
  scope: 6,
  outcome: 7,
  actionKind: 8,
  agentId: 9,
  actorType: 10,
  actorId: 11,
  principalId: 12,
  server: 13,
  targetKind: 14,
  targetName: 15,
  effect: 16,
  seq: 17,
  prevHash: 18,
} as const;
const FIELDS = 19;

/** Absent, or JSON null (as `->>` and the JS derivation both see it). */
export const ABSENT = 0;
/** A string without escapes: its bytes are its value. */
export const STRING = 1;
/** A number, boolean, object or array. */
export const OTHER = 2;
/** A string with an escape: its bytes are not its value. */
export const ESCAPED = 3;
/** A number: `BODY_AT` holds its token. */
export const NUMBER = 4;

/** Per field, after a successful `scanBody`: its kind. */
export const BODY_KIND = new Uint8Array(FIELDS);
/** Per field, after a successful `scanBody`: start and end offsets of a string's content (no quotes) or a number's token. */
export const BODY_AT = new Int32Array(FIELDS * 2);

// Parents at the top level whose members are read, and those members.
const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const PARENTS: readonly (readonly [string, readonly (readonly [string, number])[]])[] = [
  ['action', [['kind', BF.actionKind]]],
  ['agent', [['id', BF.agentId]]],
  ['actor', [['type', BF.actorType], ['id', BF.actorId]]],
  ['onBehalfOf', [['id', BF.principalId]]],
  ['target', [['server', BF.server], ['kind', BF.targetKind], ['name', BF.targetName]]],
  ['decision', [['effect', BF.effect]]],
  ['integrity', [['seq', BF.seq], ['prevHash', BF.prevHash]]],
];
/** A key read: a field's slot, or PARENT_BASE + a parent's index. */
const PARENT_BASE = 32;
const NO_TABLE = -1;
const TOP_TABLE = PARENTS.length;
/** Per table (each parent's, then the top level's): its keys' bytes and what each is. */
const TABLES: { names: Uint8Array[]; codes: number[] }[] = [
  ...PARENTS.map(([, members]) => ({ names: members.map(([n]) => enc(n)), codes: members.map(([, f]) => f) })),
  {
    names: [...(['id', 'time', 'loggedAt', 'tenantId', 'category', 'type', 'scope', 'outcome'] as const).map(enc), ...PARENTS.map(([n]) => enc(n))],
    codes: [...(['id', 'time', 'loggedAt', 'tenantId', 'category', 'type', 'scope', 'outcome'] as const).map((n) => BF[n]), ...PARENTS.map((_, p) => PARENT_BASE + p)],
  },
];

const OBJECT = 1;
const ARRAY = 2;
const MAX_DEPTH = 512;
// The open containers: kind, and for an object the table its keys are looked up in.
const CONTAINER = new Uint8Array(MAX_DEPTH + 1);
const TABLE = new Int8Array(MAX_DEPTH + 1);

/** The code of the key at `b[ks, ke)` in a table, or -1. */
function keyCode(b: Uint8Array, ks: number, ke: number, table: number): number {
  const { names, codes } = TABLES[table]!;
  const len = ke - ks;
  for (let n = 0; n < names.length; n++) {
    const name = names[n]!;
    if (name.length !== len) continue;
    let k = 0;
    while (k < len && b[ks + k] === name[k]) k++;
    if (k === len) return codes[n]!;
  }
  return -1;
}

const isHex = (c: number | undefined) => c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46));

/**
 * Scans `b[start, end)`; true when it is a JSON object read with certainty, its fields then in
 * `BODY_KIND` and `BODY_AT`. One loop with an explicit stack: it runs over every stored body.
 */
export function scanBody(b: Uint8Array, start: number, end: number): boolean {
  BODY_KIND.fill(ABSENT);
  if (start >= end || b[start] !== 0x7b) return false;
  let seenFields = 0;
  let seenParents = 0;
  let i = start;
  let depth = 0;
  // Where the value about to be read goes (a field's slot, or -1), and the table an object there opens.
  let field = -1;
  let opens = TOP_TABLE;
  let wantKey = false;
  let c = 0;
  for (;;) {
    if (wantKey) {
      if (i >= end || b[i] !== 0x22) return false;
      const ks = ++i;
      i = stringEnd(b, i, end);
      if (i < 0) return false;
      const escaped = lastEscaped;
      const ke = i++;
      if (i >= end || b[i] !== 0x3a) return false;
      i++;
      field = -1;
      opens = NO_TABLE;
      const table = TABLE[depth]!;
      if (table !== NO_TABLE) {
        // An escape could spell a read member's name: not read with certainty.
        if (escaped) return false;
        const code = keyCode(b, ks, ke, table);
        if (code >= PARENT_BASE) {
          const bit = 1 << (code - PARENT_BASE);
          if (seenParents & bit) return false;
          seenParents |= bit;
          opens = code - PARENT_BASE;
        } else if (code >= 0) {
          const bit = 1 << code;
          if (seenFields & bit) return false;
          seenFields |= bit;
          field = code;
        }
      }
      wantKey = false;
    }
    if (i >= end) return false;
    c = b[i]!;
    value: {
      if (c === 0x7b || c === 0x5b) {
        if (field >= 0) BODY_KIND[field] = OTHER;
        if (depth === MAX_DEPTH) return false;
        depth++;
        i++;
        CONTAINER[depth] = c === 0x7b ? OBJECT : ARRAY;
        // A parent that is not an object leaves its members absent, as `e->'agent'->>'id'` does.
        TABLE[depth] = c === 0x7b ? opens : NO_TABLE;
        if (i < end && b[i] === (c === 0x7b ? 0x7d : 0x5d)) {
          i++;
          depth--;
          break value;
        }
        wantKey = c === 0x7b;
        field = -1;
        opens = NO_TABLE;
        continue;
      }
      if (c === 0x22) {
        const s = ++i;
        i = stringEnd(b, i, end);
        if (i < 0) return false;
        if (field >= 0) {
          BODY_KIND[field] = lastEscaped ? ESCAPED : STRING;
          BODY_AT[2 * field] = s;
          BODY_AT[2 * field + 1] = i;
        }
        i++;
        break value;
      }
      if (c === 0x74 || c === 0x66 || c === 0x6e) {
        const word = c === 0x74 ? TRUE : c === 0x66 ? FALSE : NULL;
        if (i + word.length > end) return false;
        for (let k = 1; k < word.length; k++) if (b[i + k] !== word[k]) return false;
        i += word.length;
        if (field >= 0 && c !== 0x6e) BODY_KIND[field] = OTHER;
        break value;
      }
      // A number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
      const s = i;
      if (c === 0x2d) i++;
      if (i < end && b[i] === 0x30) i++;
      else if (i < end && b[i]! >= 0x31 && b[i]! <= 0x39) while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
      else return false;
      if (i < end && b[i] === 0x2e) {
        i++;
        if (!(i < end && b[i]! >= 0x30 && b[i]! <= 0x39)) return false;
        while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
      }
      if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
        i++;
        if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) i++;
        if (!(i < end && b[i]! >= 0x30 && b[i]! <= 0x39)) return false;
        while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
      }
      if (field >= 0) {
        BODY_KIND[field] = NUMBER;
        BODY_AT[2 * field] = s;
        BODY_AT[2 * field + 1] = i;
      }
    }
    // After a value: the next member or element, or the end of containers.
    for (;;) {
      if (depth === 0) return i === end;
      if (i >= end) return false;
      c = b[i]!;
      if (c === 0x2c) {
        i++;
        wantKey = CONTAINER[depth] === OBJECT;
        field = -1;
        opens = NO_TABLE;
        break;
      }
      if (c !== (CONTAINER[depth] === OBJECT ? 0x7d : 0x5d)) return false;
      i++;
      depth--;
    }
  }
}

const TRUE = enc('true');
const FALSE = enc('false');
const NULL = enc('null');

/** The offset after the escape at `b[i]` (a backslash), or -1 when JSON has no such escape. */
/** Whether the string `stringEnd` last skipped held an escape (its second result, without an object per call). */
let lastEscaped = false;

/**
 * The index of the quote that closes the string whose first byte is at `i` (keys and values alike),
 * or -1 when it is not a well-formed JSON string; `lastEscaped` says whether it held an escape.
 */
function stringEnd(b: Uint8Array, i: number, end: number): number {
  lastEscaped = false;
  let c = 0;
  for (;;) {
    while (i < end && (c = b[i]!) !== 0x22 && c !== 0x5c && c >= 0x20) i++;
    if (i >= end || c < 0x20) return -1;
    if (c === 0x22) return i;
    lastEscaped = true;
    i = escapeEnd(b, i, end);
    if (i < 0) return -1;
  }
}

function escapeEnd(b: Uint8Array, i: number, end: number): number {
  if (i + 1 >= end) return -1;
  const n = b[i + 1]!;
  if (n === 0x75) return i + 6 <= end && isHex(b[i + 2]) && isHex(b[i + 3]) && isHex(b[i + 4]) && isHex(b[i + 5]) ? i + 6 : -1;
  return n === 0x22 || n === 0x5c || n === 0x2f || n === 0x62 || n === 0x66 || n === 0x6e || n === 0x72 || n === 0x74 ? i + 2 : -1;
}
