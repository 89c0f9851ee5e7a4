import { Document } from 'yaml';

/*
 * A fast reader for the plain subset of YAML that policy files are mostly made of, used before the
 * `yaml` library and never instead of it: it either returns exactly what
 * `parseAllDocuments(text, { uniqueKeys: true }).filter(non-empty).map(d => d.toJS({ maxAliasCount: 100 }))`
 * returns, or `undefined`, and then the caller reads the file with `yaml`. It is one dialect, not
 * two: every construct it does not know makes it give up on the whole file, and
 * plain-yaml.test.ts checks it against `yaml` on fixtures, generated and mutated documents.
 *
 * The subset, and nothing else:
 * - `---` lines (optionally followed by a comment) before documents; no empty document (`yaml`
 *   reads one as a null scalar), no `...`, no directives;
 * - block mappings at the top of each document and below, block sequences (also at the same
 *   indentation as their key), compact mappings and sequences in sequence items (`- key: value`,
 *   `- - item`), and the empty flow collections `[]` and `{}`;
 * - keys of letters, digits, `_`, `-`, `.` and `/` (starting with a letter or `_`) that the core
 *   schema reads as strings, each once per mapping, never `__proto__`;
 * - values on one line: plain scalars (read as strings, or as `true`, `false` and decimal
 *   integers of up to 15 digits; any other scalar the core schema would read as non-string gives
 *   up), single-quoted, and double-quoted with only `\\ \" \/ \n \t` escapes;
 * - `&anchor` on a mapping value, `*alias` to an earlier, finished anchor that holds no alias,
 *   fewer than 100 times per anchor (the limit `toJS` enforces);
 * - comments on their own line or after a value, blank lines, spaces for indentation;
 * - characters: line feed and printable characters other than tabs, carriage returns, the
 *   byte-order mark, Unicode spaces and line separators, and astral characters.
 * Anything else (flow collections, block scalars, multi-line scalars, tags, complex keys, tabs,
 * CRLF, a scalar or a sequence at the top of a document, a line indented unexpectedly) gives up.
 */

/** One non-empty document: its value and the offset of its first key (its contents' start). */
export interface PlainDocument {
  value: Record<string, unknown>;
  offset: number;
}

/** Thrown to give up; caught once, at the top. */
class Unsupported extends Error {}
const UNSUPPORTED = new Unsupported('outside the plain subset');

// Anything outside: \n, printable ASCII, and printable BMP characters that no tool reads as a space
// or a line break (U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF).
const OUTSIDE = /[^\n\x20-\x7e\xa1-\u167f\u1681-\u1fff\u200b-\u2027\u202a-\u202e\u2030-\u205e\u2060-\u2fff\u3001-\ud7ff\ue000-\ufefe\uff00-\ufffd]/;

// The core schema's own tests (from `yaml`, not a copy), as one: a plain scalar any of them accepts
// is not a string. Were a test ever to carry flags the union would drop, every scalar is suspect.
const CORE_TESTS = new Document().schema.tags.flatMap((t) => (t.default === true && 'test' in t && t.test instanceof RegExp ? [t.test] : []));
const NON_STRING = CORE_TESTS.every((t) => t.flags === '') ? new RegExp(CORE_TESTS.map((t) => `(?:${t.source})`).join('|')) : /(?:)/;
const SMALL_INT = /^[0-9]{1,15}$/;
const MAX_KEY = 1000;
/** `toJS({ maxAliasCount: 100 })` throws at the 101st alias of an anchor; stay well clear. */
const MAX_ALIASES = 99;

const SPACE = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;
const DQUOTE = 34;
const SQUOTE = 39;
const AMP = 38;
const STAR = 42;
const BACKSLASH = 92;
const LBRACKET = 91;
const RBRACKET = 93;
const LBRACE = 123;
const RBRACE = 125;

function isKeyStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isKeyChar(c: number): boolean {
  return isKeyStart(c) || (c >= 48 && c <= 57) || c === DASH || c === 46 || c === 47;
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === DASH;
}

/** Characters that may not start a plain scalar here (YAML indicators, and what this reader leaves to `yaml`). */
function isIndicator(c: number): boolean {
  // - ? : , [ ] { } # & * ! | > ' " % @ `
  return c === DASH || c === 63 || c === COLON || c === 44 || c === 91 || c === 93 || c === 123 || c === 125 || c === HASH || c === AMP || c === STAR || c === 33 || c === 124 || c === 62 || c === SQUOTE || c === DQUOTE || c === 37 || c === 64 || c === 96;
}

function resolvePlain(s: string): unknown {
  if (!NON_STRING.test(s)) return s;
  if (SMALL_INT.test(s)) return Number(s);
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw UNSUPPORTED;
}

interface Anchor {
  value: unknown;
  uses: number;
}

class Reader {
  private pos = 0;
  /** Start, indentation and end of the line at `pos` (valid after `line()`). */
  private indent = 0;
  private end = 0;
  private anchors = new Map<string, Anchor | null>();
  private aliasesRead = 0;

  constructor(private readonly text: string) {}

  /** Reads the line at `pos`: its indentation and end. */
  private line(): void {
    const t = this.text;
    let i = this.pos;
    while (t.charCodeAt(i) === SPACE) i++;
    this.indent = i - this.pos;
    const nl = t.indexOf('\n', i);
    this.end = nl === -1 ? t.length : nl;
  }

  private nextLine(): void {
    this.pos = this.end + 1;
  }

  /** Skips blank and comment lines; false at the end of the text or at a document marker. */
  private significant(): boolean {
    const t = this.text;
    while (this.pos < t.length) {
      this.line();
      const first = this.pos + this.indent;
      if (first === this.end || t.charCodeAt(first) === HASH) {
        this.nextLine();
        continue;
      }
      if (this.indent === 0 && this.isMarker()) return false;
      return true;
    }
    return false;
  }

  /** At column 0: `---` (a document start) is a marker; `...` and `%` give up. */
  private isMarker(): boolean {
    const t = this.text;
    const p = this.pos;
    const c = t.charCodeAt(p);
    if (c === 37) throw UNSUPPORTED;
    if ((c === DASH || c === 46) && t.charCodeAt(p + 1) === c && t.charCodeAt(p + 2) === c) {
      const after = t.charCodeAt(p + 3);
      if (p + 3 === this.end || after === SPACE) {
        if (c === 46) throw UNSUPPORTED;
        return true;
      }
    }
    return false;
  }

  /** Consumes a `---` line: nothing may follow but spaces and a comment. */
  private marker(): void {
    this.restOfLine(this.pos + 3);
    this.nextLine();
  }

  /** From `i` to the end of the line there may be only spaces, then a comment after at least one. */
  private restOfLine(i: number): void {
    const t = this.text;
    const from = i;
    while (i < this.end && t.charCodeAt(i) === SPACE) i++;
    if (i === this.end) return;
    if (t.charCodeAt(i) === HASH && i > from) return;
    throw UNSUPPORTED;
  }

  documents(): PlainDocument[] {
    const out: PlainDocument[] = [];
    const t = this.text;
    // Content before any `---` is the first document; after that, each `---` opens one. A `---`
    // with no content before the next one (or the end) opens an empty document, which `yaml`
    // reads as a null scalar and the loader reports: left to `yaml`.
    let opened = false;
    while (this.pos < t.length) {
      if (!this.significant()) {
        if (this.pos >= t.length) break;
        if (opened) throw UNSUPPORTED;
        this.marker();
        opened = true;
        continue;
      }
      if (this.indent !== 0) throw UNSUPPORTED;
      this.anchors = new Map();
      const offset = this.pos;
      const value = this.map(0, this.pos);
      out.push({ value, offset });
      opened = false;
      // The document ends at a marker or the end of the text; anything else was left unread.
      if (this.significant()) throw UNSUPPORTED;
    }
    if (opened) throw UNSUPPORTED;
    return out;
  }

  /** The key at `i` (followed by `:` and a space or the line end); returns the key and the index after `:`. */
  private key(i: number): { key: string; after: number } {
    const t = this.text;
    const start = i;
    if (!isKeyStart(t.charCodeAt(i))) throw UNSUPPORTED;
    i++;
    while (isKeyChar(t.charCodeAt(i))) i++;
    if (t.charCodeAt(i) !== COLON || i - start > MAX_KEY) throw UNSUPPORTED;
    const next = t.charCodeAt(i + 1);
    if (i + 1 !== this.end && next !== SPACE) throw UNSUPPORTED;
    const key = t.slice(start, i);
    if (key === '__proto__') throw UNSUPPORTED;
    if (NON_STRING.test(key)) throw UNSUPPORTED;
    return { key, after: i + 1 };
  }

  /** A block mapping whose keys sit at column `col`; the first key starts at `at` on the current line. */
  private map(col: number, at: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (;;) {
      const { key, after } = this.key(at);
      if (Object.prototype.hasOwnProperty.call(out, key)) throw UNSUPPORTED;
      out[key] = this.value(col, after, true);
      if (!this.significant()) return out;
      if (this.indent < col) return out;
      if (this.indent > col) throw UNSUPPORTED;
      at = this.pos + col;
    }
  }

  /** A block sequence whose `-` sit at column `col`, starting on the current line. */
  private seq(col: number): unknown[] {
    const out: unknown[] = [];
    const t = this.text;
    for (;;) {
      const dash = this.pos + col;
      let i = dash + 1;
      while (i < this.end && t.charCodeAt(i) === SPACE) i++;
      const c = t.charCodeAt(i);
      if (i === this.end || (c === HASH && i > dash + 1)) {
        this.restOfLine(dash + 1);
        this.nextLine();
        out.push(this.nested(col, false));
      } else if (c === DASH && (i + 1 === this.end || t.charCodeAt(i + 1) === SPACE)) {
        // `- - x`: a sequence in the item, its dashes at this column.
        out.push(this.seq(i - this.pos));
      } else if (isKeyStart(c) && this.looksLikeKey(i)) {
        out.push(this.map(i - this.pos, i));
      } else {
        out.push(this.inline(i, col));
      }
      if (!this.significant()) return out;
      if (this.indent < col) return out;
      if (this.indent > col) throw UNSUPPORTED;
      const d = this.pos + col;
      if (t.charCodeAt(d) !== DASH || !(d + 1 === this.end || t.charCodeAt(d + 1) === SPACE)) return out;
    }
  }

  /** Whether a key (`name:` then a space or the line end) starts at `i`. */
  private looksLikeKey(i: number): boolean {
    const t = this.text;
    while (isKeyChar(t.charCodeAt(i))) i++;
    return t.charCodeAt(i) === COLON && (i + 1 === this.end || t.charCodeAt(i + 1) === SPACE);
  }

  /**
   * The value after a key's `:` at `i`, on this line or, when the line ends, the block below.
   * `inMap`: a sequence may then sit at the key's own column.
   */
  private value(col: number, i: number, inMap: boolean): unknown {
    const t = this.text;
    const from = i;
    while (i < this.end && t.charCodeAt(i) === SPACE) i++;
    const c = t.charCodeAt(i);
    if (i === this.end || (c === HASH && i > from)) {
      this.nextLine();
      return this.nested(col, inMap);
    }
    if (c === AMP) {
      const start = ++i;
      while (isNameChar(t.charCodeAt(i))) i++;
      const name = t.slice(start, i);
      if (name === '' || this.anchors.has(name)) throw UNSUPPORTED;
      if (i !== this.end && t.charCodeAt(i) !== SPACE) throw UNSUPPORTED;
      // Held as unfinished (null) until its node is read: an alias to it before then gives up.
      this.anchors.set(name, null);
      const aliasesBefore = this.aliasesRead;
      let j = i;
      while (j < this.end && t.charCodeAt(j) === SPACE) j++;
      let v: unknown;
      if (j === this.end || (t.charCodeAt(j) === HASH && j > i)) {
        this.nextLine();
        v = this.nested(col, inMap);
      } else {
        const k = t.charCodeAt(j);
        if (k === AMP || k === STAR) throw UNSUPPORTED;
        v = this.inline(j, col);
      }
      // An anchor holding an alias multiplies under `toJS`'s alias count; leave that to `yaml`.
      if (this.aliasesRead !== aliasesBefore) throw UNSUPPORTED;
      this.anchors.set(name, { value: v, uses: 0 });
      return v;
    }
    return this.inline(i, col);
  }

  /** The block below a key or `-` whose line ended: a deeper mapping or sequence, or null. */
  private nested(col: number, inMap: boolean): unknown {
    if (!this.significant()) return null;
    const t = this.text;
    const first = this.pos + this.indent;
    const isDash = t.charCodeAt(first) === DASH && (first + 1 === this.end || t.charCodeAt(first + 1) === SPACE);
    if (this.indent > col) {
      if (isDash) return this.seq(this.indent);
      const c = t.charCodeAt(first);
      return c === LBRACKET || c === LBRACE ? this.inline(first, col) : this.map(this.indent, first);
    }
    if (this.indent === col && isDash && inMap) return this.seq(col);
    return null;
  }

  /**
   * A scalar or alias that fills the rest of the line from `i` (a plain scalar also the lines
   * below indented past `col` that continue it); leaves `pos` on the line after.
   */
  private inline(i: number, col: number): unknown {
    const t = this.text;
    const c = t.charCodeAt(i);
    let v: unknown;
    if (c === STAR) {
      const start = ++i;
      while (isNameChar(t.charCodeAt(i))) i++;
      const anchor = this.anchors.get(t.slice(start, i));
      if (!anchor || ++anchor.uses > MAX_ALIASES) throw UNSUPPORTED;
      this.aliasesRead++;
      this.restOfLine(i);
      v = anchor.value;
    } else if ((c === LBRACKET && t.charCodeAt(i + 1) === RBRACKET) || (c === LBRACE && t.charCodeAt(i + 1) === RBRACE)) {
      // `[]` and `{}`, the only flow collections here: empty ones, as `yaml` writes them.
      this.restOfLine(i + 2);
      v = c === LBRACKET ? [] : {};
    } else if (c === DQUOTE) v = this.doubleQuoted(i);
    else if (c === SQUOTE) v = this.singleQuoted(i);
    else {
      if (isIndicator(c)) throw UNSUPPORTED;
      return this.plain(i, col);
    }
    this.nextLine();
    return v;
  }

  /**
   * A plain scalar from `i`: the rest of the line up to a ` #` comment, then each following line
   * indented past `col` joined with one space (how YAML folds a plain scalar without blank lines).
   */
  private plain(i: number, col: number): unknown {
    const t = this.text;
    const { text: first, comment } = this.plainLine(i);
    let s = first;
    this.nextLine();
    // A comment ends the scalar; a deeper line after it is an error, which the caller's indentation check finds.
    while (!comment && this.pos < t.length) {
      this.line();
      const at = this.pos + this.indent;
      if (this.indent <= col || at === this.end) break;
      const k = t.charCodeAt(at);
      // A comment line ends the scalar too. Inside a scalar, quotes, `*` and `&` are text; other
      // indicators at the start of a continuation are left to `yaml`.
      if (k === HASH) break;
      if (isIndicator(k) && k !== DQUOTE && k !== SQUOTE && k !== STAR && k !== AMP) throw UNSUPPORTED;
      const next = this.plainLine(at);
      if (next.comment) throw UNSUPPORTED;
      s += ` ${next.text}`;
      this.nextLine();
    }
    return resolvePlain(s);
  }

  /** The plain text of the current line from `i`: up to a ` #` comment, trailing spaces dropped. */
  private plainLine(i: number): { text: string; comment: boolean } {
    const t = this.text;
    let e = i;
    let comment = false;
    for (let j = i + 1; j < this.end; j++) {
      const k = t.charCodeAt(j);
      if (k === SPACE) {
        if (t.charCodeAt(j + 1) === HASH) {
          comment = true;
          break;
        }
        continue;
      }
      // `:` before a space or the line end would make this a key.
      if (k === COLON && (j + 1 === this.end || t.charCodeAt(j + 1) === SPACE)) throw UNSUPPORTED;
      e = j;
    }
    return { text: t.slice(i, e + 1), comment };
  }

  private doubleQuoted(i: number): string {
    const t = this.text;
    let out = '';
    let run = i + 1;
    for (let j = i + 1; j < this.end; j++) {
      const c = t.charCodeAt(j);
      if (c === DQUOTE) {
        out += t.slice(run, j);
        this.restOfLine(j + 1);
        return out;
      }
      if (c !== BACKSLASH) continue;
      out += t.slice(run, j);
      const e = t.charCodeAt(++j);
      if (e === BACKSLASH || e === DQUOTE || e === 47) out += String.fromCharCode(e);
      else if (e === 110) out += '\n';
      else if (e === 116) out += '\t';
      else throw UNSUPPORTED;
      run = j + 1;
    }
    throw UNSUPPORTED;
  }

  private singleQuoted(i: number): string {
    const t = this.text;
    let out = '';
    let run = i + 1;
    for (let j = i + 1; j < this.end; j++) {
      if (t.charCodeAt(j) !== SQUOTE) continue;
      out += t.slice(run, j);
      if (t.charCodeAt(j + 1) === SQUOTE) {
        out += "'";
        run = ++j + 1;
        continue;
      }
      this.restOfLine(j + 1);
      return out;
    }
    throw UNSUPPORTED;
  }
}

/**
 * The non-empty documents of `text` when it lies inside the plain subset, each the value `yaml`
 * would give; `undefined` when it does not, or when anything about it is in doubt.
 */
export function readPlainYaml(text: string): PlainDocument[] | undefined {
  if (OUTSIDE.test(text)) return undefined;
  try {
    return new Reader(text).documents();
  } catch {
    // Unsupported, or anything unforeseen (a stack overflow on deep nesting): `yaml` decides.
    return undefined;
  }
}
