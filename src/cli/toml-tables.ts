/**
 * Just enough TOML to edit one table of a file someone else owns (Codex's `config.toml`) without a
 * TOML library: the text is cut into statements (table headers and `key = value` lines, a value
 * possibly spanning lines in an array or a multi-line string), each checked for its shape. A
 * statement that is neither makes the file malformed, and the caller refuses to write it. Values
 * are not interpreted: what the command does not own is kept byte for byte.
 */

/** One statement of a TOML file: where it starts and ends (the end includes its line break). */
export interface TomlStatement {
  kind: 'header' | 'pair' | 'blank';
  start: number;
  end: number;
  /** A header's table path or a pair's key, with quotes and spaces removed (`mcp_servers.files`). */
  name?: string;
}

/** A statement that is not TOML: its 1-based line and what is wrong. */
export class TomlShapeError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'TomlShapeError';
  }
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** `a."b c".d` → `a.b c.d`; undefined when it is not a key. */
function keyPath(text: string): string | undefined {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest !== '') {
    let m: RegExpExecArray | null;
    if ((m = /^"((?:[^"\\]|\\.)*)"/.exec(rest)) || (m = /^'([^']*)'/.exec(rest))) parts.push(m[1]!);
    else if ((m = /^[A-Za-z0-9_-]+/.exec(rest)) && BARE_KEY.test(m[0])) parts.push(m[0]);
    else return undefined;
    rest = rest.slice(m[0].length).trim();
    if (rest === '') break;
    if (!rest.startsWith('.')) return undefined;
    rest = rest.slice(1).trim();
    if (rest === '') return undefined;
  }
  return parts.length > 0 ? parts.join('.') : undefined;
}

/** Cuts a TOML text into statements; throws {@link TomlShapeError} at the first line that is none. */
export function tomlStatements(text: string): TomlStatement[] {
  const out: TomlStatement[] = [];
  let i = 0;
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  while (i < text.length) {
    const start = i;
    const eol = text.indexOf('\n', i);
    const lineEnd = eol === -1 ? text.length : eol;
    const line = text.slice(i, lineEnd);
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = eol === -1 ? text.length : eol + 1;
      out.push({ kind: 'blank', start, end: i });
      continue;
    }
    if (trimmed.startsWith('[')) {
      const m = /^\s*(\[\[?)([^\]]*)(\]\]?)\s*(#.*)?$/.exec(line);
      const name = m && m[1]!.length === m[3]!.length ? keyPath(m[2]!) : undefined;
      if (name === undefined) throw new TomlShapeError(lineAt(start), 'a table header that does not parse');
      i = eol === -1 ? text.length : eol + 1;
      out.push({ kind: 'header', start, end: i, name });
      continue;
    }
    // A key, `=`, then a value that ends where its brackets close and its strings end, on this line or a later one.
    const eq = findEquals(line);
    const name = eq === -1 ? undefined : keyPath(line.slice(0, eq));
    if (name === undefined) throw new TomlShapeError(lineAt(start), 'a line that is neither a table header nor `key = value`');
    i = scanValue(text, i + eq + 1, () => lineAt(start));
    out.push({ kind: 'pair', start, end: i, name });
  }
  return out;
}

// The `=` after a key, outside the key's quotes.
function findEquals(line: string): number {
  let quote: string | undefined;
  for (let k = 0; k < line.length; k++) {
    const c = line[k]!;
    if (quote) {
      if (c === '\\' && quote === '"') k++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '=') return k;
  }
  return -1;
}

// Reads a value from `at`; returns the offset after the line break that ends it.
function scanValue(text: string, at: number, line: () => number): number {
  let depth = 0;
  let seen = false;
  let k = at;
  while (k < text.length) {
    const c = text[k]!;
    if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), k);
      const close = triple ? c.repeat(3) : c;
      let j = k + close.length;
      for (;;) {
        if (j >= text.length || (!triple && text[j] === '\n')) throw new TomlShapeError(line(), 'a string that does not end');
        if (c === '"' && text[j] === '\\') j += 2;
        else if (text.startsWith(close, j)) break;
        else j++;
      }
      k = j + close.length;
      // A multi-line string may end with up to two more quotes of its kind.
      while (triple && text[k] === c) k++;
      seen = true;
      continue;
    }
    if (c === '#') {
      const nl = text.indexOf('\n', k);
      k = nl === -1 ? text.length : nl;
      continue;
    }
    if (c === '[' || c === '{') {
      depth++;
      seen = true;
    } else if (c === ']' || c === '}') {
      depth--;
      if (depth < 0) throw new TomlShapeError(line(), 'a bracket that closes nothing');
    } else if (c === '\n') {
      if (depth === 0) {
        if (!seen) throw new TomlShapeError(line(), 'a key without a value');
        return k + 1;
      }
    } else if (!/\s/.test(c)) seen = true;
    k++;
  }
  if (depth !== 0) throw new TomlShapeError(line(), 'an array or inline table that does not close');
  if (!seen) throw new TomlShapeError(line(), 'a key without a value');
  return text.length;
}

/** A TOML basic string: JSON's escapes are TOML's. */
export function tomlString(s: string): string {
  return JSON.stringify(s);
}
