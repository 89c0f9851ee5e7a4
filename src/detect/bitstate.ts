/**
 * A small linear-time matcher for the subset of RE2 syntax the detectors use, with RE2's leftmost-first
 * semantics: the pattern is compiled to a Thompson program and searched by backtracking that never
 * visits an (instruction, position) state twice (RE2's own "BitState" engine). Work per search is at most
 * instructions × chars, so it stays linear on hostile input; it saves re2-wasm's fixed cost per call
 * (copying the input into wasm, building the match object), which dominated short windows.
 *
 * Supported: literals, `.`, classes (`[...]`, `\d \s \w` and negations, `\xhh`, `\x{h…}`), `(?:…)`,
 * `(?i)`/`(?i:…)`, `|`, greedy `? * + {m} {m,} {m,n}`, `\b \B`, `^` (with `(?m)` at the very start).
 * Anything else (captures, lazy quantifiers, `$`, Unicode classes, case folding beyond ASCII) makes
 * `compileBitState` return undefined and the caller keeps RE2. As in re2-wasm after the caller folds
 * surrogates to U+FFFD, every UTF-16 unit is one char and a surrogate reads as U+FFFD.
 * pattern-set.test.ts checks every pattern against RE2 on random adversarial text.
 */

/** A compiled pattern: `exec` finds the leftmost-first match in `text[base, end)` starting at or after `from`. */
export interface BitStateProgram {
  readonly size: number;
  exec(text: string, base: number, end: number, from: number): { index: number; end: number } | null;
}

const MAX_INSTS = 1500;

interface CharClass {
  readonly ascii: Uint8Array; // 128 entries, 1 = member
  readonly ranges: ReadonlyArray<readonly [number, number]>; // non-ASCII members
  readonly negate: boolean;
}

type Node =
  | { t: 'class'; c: CharClass }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'rep'; n: Node; min: number; max: number } // max -1: unbounded
  | { t: 'assert'; k: 'wordb' | 'nwordb' | 'bol' | 'bot' };

class Unsupported extends Error {}

const SPACE = [9, 10, 12, 13, 32]; // RE2's \s: [\t\n\f\r ]
const isWordCode = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

const wordAt = (text: string, base: number, end: number, p: number) => p >= base && p < end && isWordCode(text.charCodeAt(p));

function classOf(members: number[], ranges: Array<[number, number]>, negate: boolean, fold: boolean): CharClass {
  const ascii = new Uint8Array(128);
  for (const m of members) {
    if (m < 128) ascii[m] = 1;
    else ranges.push([m, m]);
  }
  const extra: Array<[number, number]> = [];
  for (const [lo, hi] of ranges) {
    if (lo < 128) {
      for (let c = lo; c <= Math.min(hi, 127); c++) ascii[c] = 1;
      if (hi >= 128) extra.push([128, hi]);
    } else extra.push([lo, hi]);
  }
  if (fold) {
    // Non-ASCII members would need Unicode case folding; leave those patterns to RE2.
    if (extra.length > 0) throw new Unsupported('non-ASCII class under (?i)');
    for (let c = 65; c <= 90; c++) {
      if (ascii[c] || ascii[c + 32]) ascii[c] = ascii[c + 32] = 1;
    }
    // RE2 folds K to KELVIN SIGN and S to LONG S.
    if (ascii[107]) extra.push([0x212a, 0x212a]);
    if (ascii[115]) extra.push([0x17f, 0x17f]);
  }
  return { ascii, ranges: extra, negate };
}

function matches(c: CharClass, code: number): boolean {
  let hit: boolean;
  if (code < 128) hit = c.ascii[code] === 1;
  else {
    const u = code >= 0xd800 && code <= 0xdfff ? 0xfffd : code;
    hit = false;
    for (const [lo, hi] of c.ranges) if (u >= lo && u <= hi) {
      hit = true;
      break;
    }
  }
  return hit !== c.negate;
}

function parse(source: string): Node {
  let i = 0;
  let multiline = false;
  let foldAll = false;
  // Flags apply to the whole pattern only at its very start; anywhere else they are left to RE2.
  for (;;) {
    if (source.startsWith('(?m)', i)) multiline = true;
    else if (source.startsWith('(?i)', i)) foldAll = true;
    else break;
    i += 4;
  }
  const peek = () => source[i];
  const hex = (digits: string) => {
    if (!/^[0-9a-fA-F]{1,6}$/.test(digits)) throw new Unsupported('bad hex');
    return parseInt(digits, 16);
  };
  // An escape outside or inside a class: a set of members (and ranges), or a single code.
  const escape = (inClass: boolean): { code?: number; members?: number[]; ranges?: Array<[number, number]>; negate?: boolean; assert?: 'wordb' | 'nwordb' } => {
    const c = source[i++];
    if (c === undefined) throw new Unsupported('trailing backslash');
    switch (c) {
      case 'd':
      case 'D':
        return { ranges: [[48, 57]], negate: c === 'D' };
      case 's':
      case 'S':
        return { members: [...SPACE], negate: c === 'S' };
      case 'w':
      case 'W':
        return { ranges: [[48, 57], [65, 90], [97, 122], [95, 95]], negate: c === 'W' };
      case 'b':
      case 'B':
        if (inClass) throw new Unsupported('\\b in class');
        return { assert: c === 'b' ? 'wordb' : 'nwordb' };
      case 'n':
        return { code: 10 };
      case 't':
        return { code: 9 };
      case 'r':
        return { code: 13 };
      case 'f':
        return { code: 12 };
      case 'v':
        return { code: 11 };
      case 'x': {
        if (source[i] === '{') {
          const close = source.indexOf('}', i);
          if (close < 0) throw new Unsupported('bad \\x{');
          const code = hex(source.slice(i + 1, close));
          i = close + 1;
          if (code > 0xffff) throw new Unsupported('astral');
          return { code };
        }
        const code = hex(source.slice(i, i + 2));
        i += 2;
        return { code };
      }
      default:
        if (/[A-Za-z0-9]/.test(c)) throw new Unsupported(`escape \\${c}`);
        return { code: c.charCodeAt(0) };
    }
  };
  const parseClass = (fold: boolean): CharClass => {
    // at '[' already consumed
    let negate = false;
    if (peek() === '^') {
      negate = true;
      i++;
    }
    const members: number[] = [];
    const ranges: Array<[number, number]> = [];
    let first = true;
    for (;;) {
      const c = source[i];
      if (c === undefined) throw new Unsupported('unclosed class');
      if (c === ']' && !first) {
        i++;
        break;
      }
      first = false;
      if (c === '[') throw new Unsupported('nested class');
      let lo: number;
      if (c === '\\') {
        i++;
        const e = escape(true);
        if (e.code === undefined) {
          if (e.negate) throw new Unsupported('negated escape in class');
          members.push(...(e.members ?? []));
          ranges.push(...(e.ranges ?? []));
          continue;
        }
        lo = e.code;
      } else {
        lo = c.charCodeAt(0);
        if (lo >= 0xd800 && lo <= 0xdfff) throw new Unsupported('astral');
        i++;
      }
      if (source[i] === '-' && source[i + 1] !== ']' && source[i + 1] !== undefined) {
        i++;
        let hi: number;
        if (source[i] === '\\') {
          i++;
          const e = escape(true);
          if (e.code === undefined) throw new Unsupported('class range to a class');
          hi = e.code;
        } else {
          hi = source.charCodeAt(i);
          if (hi >= 0xd800 && hi <= 0xdfff) throw new Unsupported('astral');
          i++;
        }
        if (hi < lo) throw new Unsupported('bad range');
        ranges.push([lo, hi]);
      } else members.push(lo);
    }
    return classOf(members, ranges, negate, fold);
  };
  const parseAlt = (fold: boolean): Node => {
    const items: Node[] = [parseSeq(fold)];
    while (peek() === '|') {
      i++;
      items.push(parseSeq(fold));
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  };
  const parseSeq = (fold: boolean): Node => {
    const items: Node[] = [];
    for (;;) {
      const c = peek();
      if (c === undefined || c === '|' || c === ')') break;
      let atom: Node;
      if (c === '(') {
        if (source.startsWith('(?:', i)) {
          i += 3;
          atom = parseAlt(fold);
        } else if (source.startsWith('(?i:', i)) {
          i += 4;
          atom = parseAlt(true);
        } else throw new Unsupported('group kind');
        if (source[i] !== ')') throw new Unsupported('unclosed group');
        i++;
      } else if (c === '[') {
        i++;
        atom = { t: 'class', c: parseClass(fold) };
      } else if (c === '\\') {
        i++;
        const e = escape(false);
        if (e.assert !== undefined) {
          items.push({ t: 'assert', k: e.assert });
          continue;
        }
        atom = { t: 'class', c: e.code !== undefined ? classOf([e.code], [], false, fold) : classOf(e.members ?? [], e.ranges ?? [], e.negate ?? false, false) };
      } else if (c === '.') {
        i++;
        atom = { t: 'class', c: classOf([10], [], true, false) };
      } else if (c === '^') {
        i++;
        items.push({ t: 'assert', k: multiline ? 'bol' : 'bot' });
        continue;
      } else if (c === '$' || c === '*' || c === '+' || c === '?' || c === '{') {
        throw new Unsupported(`operator ${c}`);
      } else {
        const code = source.charCodeAt(i++);
        if (code >= 0xd800 && code <= 0xdfff) throw new Unsupported('astral');
        atom = { t: 'class', c: classOf([code], [], false, fold) };
      }
      // Quantifier.
      const q = peek();
      let min = 1;
      let max = 1;
      if (q === '?') [min, max] = [0, 1];
      else if (q === '*') [min, max] = [0, -1];
      else if (q === '+') [min, max] = [1, -1];
      else if (q === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
        if (m === null) throw new Unsupported('bad repeat');
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
        i += m[0].length - 1;
      }
      if (min !== 1 || max !== 1 || q === '?' || q === '*' || q === '+' || q === '{') {
        if (q === '?' || q === '*' || q === '+' || q === '{') i++;
        if (peek() === '?' || peek() === '+' || peek() === '*' || peek() === '{') throw new Unsupported('lazy or stacked quantifier');
        atom = { t: 'rep', n: atom, min, max };
      }
      items.push(atom);
    }
    return items.length === 1 ? items[0]! : { t: 'seq', items };
  };
  const node = parseAlt(foldAll);
  if (i !== source.length) throw new Unsupported('trailing input');
  return node;
}

// Program: op per instruction; CLASS reads one char, SPLIT tries x then y, ASSERT checks, MATCH ends.
const CLASS = 0;
const SPLIT = 1;
const ASSERT = 2;
const MATCH = 3;

interface Inst {
  op: number;
  x: number;
  y: number;
  c?: CharClass;
  k?: 'wordb' | 'nwordb' | 'bol' | 'bot';
}

function compile(node: Node): Inst[] {
  const prog: Inst[] = [];
  const emit = (inst: Inst) => {
    if (prog.length >= MAX_INSTS) throw new Unsupported('too large');
    prog.push(inst);
    return prog.length - 1;
  };
  // Emits `n`; returns the indices whose `x` (or `y`) must be patched to the continuation.
  type Hole = { at: number; field: 'x' | 'y' };
  const gen = (n: Node): Hole[] => {
    switch (n.t) {
      case 'class':
        return [{ at: emit({ op: CLASS, x: -1, y: -1, c: n.c }), field: 'x' }];
      case 'assert':
        return [{ at: emit({ op: ASSERT, x: -1, y: -1, k: n.k }), field: 'x' }];
      case 'seq': {
        let holes: Hole[] = [];
        for (const item of n.items) {
          const start = prog.length;
          const next = gen(item);
          patch(holes, start);
          holes = next;
        }
        return holes;
      }
      case 'alt': {
        const out: Hole[] = [];
        let prevSplit = -1;
        n.items.forEach((item, k) => {
          const last = k === n.items.length - 1;
          const at = prog.length;
          if (prevSplit >= 0) prog[prevSplit]!.y = at;
          if (!last) {
            prevSplit = emit({ op: SPLIT, x: -1, y: -1 });
            prog[prevSplit]!.x = prog.length;
          }
          out.push(...gen(item));
        });
        return out;
      }
      case 'rep': {
        let holes: Hole[] = [];
        for (let k = 0; k < n.min; k++) {
          const start = prog.length;
          const next = gen(n.n);
          patch(holes, start);
          holes = next;
        }
        if (n.max === -1) {
          const split = emit({ op: SPLIT, x: -1, y: -1 });
          patch(holes, split);
          prog[split]!.x = prog.length;
          const body = gen(n.n);
          patch(body, split);
          return [{ at: split, field: 'y' }];
        }
        const out: Hole[] = [];
        for (let k = n.min; k < n.max; k++) {
          const split = emit({ op: SPLIT, x: -1, y: -1 });
          patch(holes, split);
          prog[split]!.x = prog.length;
          out.push({ at: split, field: 'y' });
          holes = gen(n.n);
        }
        return [...out, ...holes];
      }
    }
  };
  const patch = (holes: Hole[], to: number) => {
    for (const h of holes) prog[h.at]![h.field] = to;
  };
  const holes = gen(node);
  const m = emit({ op: MATCH, x: -1, y: -1 });
  patch(holes, m);
  // An empty program (only MATCH) or holes left pointing nowhere would be a compiler bug.
  for (const inst of prog) if ((inst.op !== MATCH && inst.x < 0) || (inst.op === SPLIT && inst.y < 0)) throw new Error('bitstate: unpatched instruction');
  return prog;
}

// Visited stamps, shared by all programs (a search never re-enters another): state (inst, pos) is
// visited in the current search when its stamp equals `gen`.
let visited = new Uint32Array(1 << 16);
let generation = 0;

/** Compiles an RE2 `source` (flags inline); undefined when it uses syntax this matcher does not cover. */
export function compileBitState(source: string): BitStateProgram | undefined {
  let prog: Inst[];
  try {
    prog = compile(parse(source));
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  const n = prog.length;
  const op = Int8Array.from(prog, (p) => p.op);
  const xs = Int32Array.from(prog, (p) => p.x);
  const ys = Int32Array.from(prog, (p) => p.y);
  const cls = prog.map((p) => p.c);
  const kinds = prog.map((p) => p.k);
  let stack = new Int32Array(256);
  // Chars a match can start with (ASCII table; `firstWide`: any non-ASCII char may), unless a match can be empty.
  const first = new Uint8Array(128);
  let firstWide = false;
  let anyFirst = false;
  {
    const seen = new Uint8Array(n);
    const todo = [0];
    while (todo.length > 0) {
      const pc = todo.pop()!;
      if (seen[pc]) continue;
      seen[pc] = 1;
      const o = op[pc]!;
      if (o === SPLIT) todo.push(xs[pc]!, ys[pc]!);
      else if (o === ASSERT) todo.push(xs[pc]!);
      else if (o === MATCH) anyFirst = true;
      else {
        const c = cls[pc]!;
        for (let k = 0; k < 128; k++) if (matches(c, k)) first[k] = 1;
        if (c.negate || c.ranges.length > 0) firstWide = true;
      }
    }
  }
  return {
    size: n,
    exec(text, base, end, from) {
      const width = end - base + 1;
      const need = n * width;
      if (visited.length < need) visited = new Uint32Array(need);
      generation = (generation + 1) >>> 0;
      if (generation === 0) {
        visited.fill(0);
        generation = 1;
      }
      const gen = generation;
      for (let s = from; s <= end; s++) {
        if (!anyFirst) {
          // Skip to the next char a match can start with.
          while (s < end) {
            const ch = text.charCodeAt(s);
            if (ch < 128 ? first[ch] === 1 : firstWide) break;
            s++;
          }
          if (s >= end) break;
        }
        let sp = 0;
        stack[sp++] = 0;
        stack[sp++] = s;
        while (sp > 0) {
          let p = stack[--sp]!;
          let pc = stack[--sp]!;
          for (;;) {
            const key = pc * width + (p - base);
            if (visited[key] === gen) break;
            visited[key] = gen;
            const o = op[pc]!;
            if (o === CLASS) {
              if (p >= end) break;
              const ch = text.charCodeAt(p);
              const c = cls[pc]!;
              if (ch < 128 ? (c.ascii[ch] === 1) !== c.negate : matches(c, ch)) {
                pc = xs[pc]!;
                p++;
                continue;
              }
              break;
            }
            if (o === SPLIT) {
              if (sp + 2 > stack.length) {
                const grown = new Int32Array(stack.length * 2);
                grown.set(stack);
                stack = grown;
              }
              stack[sp++] = ys[pc]!;
              stack[sp++] = p;
              pc = xs[pc]!;
              continue;
            }
            if (o === ASSERT) {
              const k = kinds[pc]!;
              let ok: boolean;
              if (k === 'wordb' || k === 'nwordb') ok = (wordAt(text, base, end, p - 1) !== wordAt(text, base, end, p)) === (k === 'wordb');
              else if (k === 'bot') ok = p === base;
              else ok = p === base || text.charCodeAt(p - 1) === 10;
              if (ok) {
                pc = xs[pc]!;
                continue;
              }
              break;
            }
            return { index: s, end: p };
          }
        }
      }
      return null;
    },
  };
}
