/**
 * A small linear-time matcher for the subset of RE2 syntax the detectors use, with RE2's leftmost-first
 * semantics: the pattern is compiled to a Thompson program and searched by backtracking that never
 * visits an (instruction, position) state twice (RE2's own "BitState" engine). Work per search is at most
 * instructions × chars, so it stays linear on hostile input; it saves re2-wasm's fixed cost per call
 * (copying the input into wasm, building the match object), which dominated short windows.
 *
 * Supported: literals, `.`, classes (`[...]`, `\d \s \w` and negations, `\xhh`, `\x{h…}`), `(?:…)`,
 * `(?i)`/`(?i:…)`, `|`, greedy `? * + {m} {m,} {m,n}`, `\b \B`, `^` (with `(?m)` at the very start), and
 * astral literals outside classes, which never match (the text's surrogates read as U+FFFD, as in RE2).
 * Anything else (captures, lazy quantifiers, `$`, Unicode classes, case folding beyond ASCII) makes
 * `compileBitState` return undefined and the caller keeps RE2. As in re2-wasm after the caller folds
 * surrogates to U+FFFD, every UTF-16 unit is one char and a surrogate reads as U+FFFD.
 * pattern-set.test.ts checks every pattern against RE2 on random adversarial text.
 */

/** A compiled pattern: `exec` finds the leftmost-first match in `text[base, end)` starting at or after `from`. */
export interface BitStateProgram {
  readonly size: number;
  /**
   * `to` (default `end`) is the last offset a match may start at, and `starts` (inclusive lo, hi pairs in
   * `starts[si, se)`, ascending), when given, the only offsets it may start at: callers that know where
   * matches can start skip the rest. One call marks states visited across all its start offsets, so its
   * work stays within instructions × chars however many intervals it is given.
   */
  exec(text: string, base: number, end: number, from: number, to?: number, starts?: Int32Array, si?: number, se?: number): { index: number; end: number } | null;
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
/** RE2's \w: 1 per ASCII word char; every other char (all non-ASCII ones) is not a word char. */
const WORD = new Uint8Array(128);
for (let c = 0; c < 128; c++) WORD[c] = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 ? 1 : 0;

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
        if (code >= 0xd800 && code <= 0xdfff) {
          // An astral literal (🔓) can never match: the caller folds every surrogate of the text to U+FFFD, as for RE2.
          const low = source.charCodeAt(i);
          if (code > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) throw new Unsupported('lone surrogate');
          i++;
          atom = { t: 'class', c: classOf([], [], false, false) };
        } else atom = { t: 'class', c: classOf([code], [], false, fold) };
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

/**
 * Visited stamps, shared by the programs of one owner (a pattern set's scratch; a search never re-enters
 * another): state (join point, pos) is visited in the current search when its stamp equals `generation`.
 * Laid out position-major, so the states one start position explores (several join points, few
 * positions) sit close together. Grown on demand.
 */
export interface BitStateScratch {
  visited: Uint32Array;
  generation: number;
}

/** Fresh visited stamps of `size` entries (grown by the first search that needs more). */
export function createBitStateScratch(size = 1 << 16): BitStateScratch {
  return { visited: new Uint32Array(size), generation: 0 };
}

/**
 * Compiles an RE2 `source` (flags inline); undefined when it uses syntax this matcher does not cover.
 * Programs given the same `scratch` share its stamps; without one the program gets its own.
 */
export function compileBitState(source: string, scratch: BitStateScratch = createBitStateScratch(0)): BitStateProgram | undefined {
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
  // ASSERT kinds as small ints: 0 \b, 1 \B, 2 ^ of text, 3 ^ of line.
  const kinds = Int8Array.from(prog, (p) => (p.k === 'wordb' ? 0 : p.k === 'nwordb' ? 1 : p.k === 'bot' ? 2 : 3));
  // Per distinct class, its verdict on every ASCII char (negation applied); `row[pc]` is its offset there.
  // A repeat shares its class object across the copies it unrolls, so most lookups hit `byObject`.
  const byObject = new Map<CharClass, number>();
  const byContent = new Map<string, number>();
  const row = new Int32Array(n);
  const verdicts: number[] = [];
  prog.forEach((p, pc) => {
    if (p.op !== CLASS) return;
    let at = byObject.get(p.c!);
    if (at === undefined) {
      let v = '';
      for (let k = 0; k < 128; k++) v += matches(p.c!, k) ? '1' : '0';
      at = byContent.get(v);
      if (at === undefined) {
        at = verdicts.length;
        byContent.set(v, at);
        for (let k = 0; k < 128; k++) verdicts.push(v.charCodeAt(k) - 48);
      }
      byObject.set(p.c!, at);
    }
    row[pc] = at;
  });
  const asciiOk = Uint8Array.from(verdicts);
  let stack = new Int32Array(256);
  // Per instruction, what it can read first: ASCII chars as 4 words of bits, whether a non-ASCII char
  // may come (`wide`), and whether MATCH is reachable without reading (`nullable`). Asserts count as
  // passable, so each is a superset; a state whose next char is outside its set is dead, and the
  // search prunes it before pushing it. Computed as a fixpoint, since loops make the graph cyclic.
  const firstBits = new Int32Array(n * 4);
  const wide = new Uint8Array(n);
  const nullable = new Uint8Array(n);
  const bits = new Int32Array(4);
  for (let changed = true; changed; ) {
    changed = false;
    for (let pc = n - 1; pc >= 0; pc--) {
      const o = op[pc]!;
      let w = 0;
      let z = 0;
      bits.fill(0);
      if (o === MATCH) z = 1;
      else if (o === CLASS) {
        for (let k = 0; k < 128; k++) if (asciiOk[row[pc]! + k] === 1) bits[k >> 5]! |= 1 << (k & 31);
        w = cls[pc]!.negate || cls[pc]!.ranges.length > 0 ? 1 : 0;
      } else {
        for (let q = xs[pc]!, more = o === SPLIT; ; q = ys[pc]!, more = false) {
          for (let k = 0; k < 4; k++) bits[k]! |= firstBits[q * 4 + k]!;
          w |= wide[q]!;
          z |= nullable[q]!;
          if (!more) break;
        }
      }
      for (let k = 0; k < 4; k++) {
        if (firstBits[pc * 4 + k] !== bits[k]) {
          firstBits[pc * 4 + k] = bits[k]!;
          changed = true;
        }
      }
      if (wide[pc] !== w || nullable[pc] !== z) {
        wide[pc] = w;
        nullable[pc] = z;
        changed = true;
      }
    }
  }
  // Only join points need visited marks: a state whose instruction has one way in is reached only from
  // its one predecessor state, which is itself processed at most once, so it is too. Marking only
  // instructions with two or more ways in (the start counts as one) keeps the search linear and reads
  // the large visited array far less often.
  const ways = new Uint8Array(n);
  ways[0] = 1;
  for (let pc = 0; pc < n; pc++) {
    const o = op[pc]!;
    if (o === MATCH) continue;
    ways[xs[pc]!] = Math.min(2, ways[xs[pc]!]! + 1);
    if (o === SPLIT) ways[ys[pc]!] = Math.min(2, ways[ys[pc]!]! + 1);
  }
  // Visited marks are indexed by join point only: `slot[pc]` is its index among them, -1 elsewhere.
  const slot = new Int32Array(n).fill(-1);
  let joins = 0;
  for (let pc = 0; pc < n; pc++) if (ways[pc]! >= 2) slot[pc] = joins++;
  // The start instruction's verdict per ASCII char, for the scan for start offsets.
  const startOk = new Uint8Array(128);
  /** Whether state `pc` can go on when the next char is `ch` (-1 at the end of the text). */
  const live = (pc: number, ch: number) => nullable[pc] === 1 || (ch >= 0 && (ch < 128 ? ((firstBits[pc * 4 + (ch >> 5)]! >>> (ch & 31)) & 1) === 1 : wide[pc] === 1));
  const anyFirst = nullable[0] === 1;
  for (let ch = 0; ch < 128; ch++) startOk[ch] = live(0, ch) ? 1 : 0;
  const startWide = wide[0] === 1;
  return {
    size: n,
    exec(text, base, end, from, to = end, starts, si = 0, se = 0) {
      const width = end - base + 1;
      const need = joins * width;
      if (scratch.visited.length < need) scratch.visited = new Uint32Array(need);
      const visited = scratch.visited;
      scratch.generation = (scratch.generation + 1) >>> 0;
      if (scratch.generation === 0) {
        visited.fill(0);
        scratch.generation = 1;
      }
      const gen = scratch.generation;
      const last = Math.min(to, end);
      let k = si;
      for (let s = from; s <= last; s++) {
        // The interval holding s or the next one after it; s moves up to its start.
        let limit = last;
        if (starts !== undefined) {
          while (k < se && starts[k + 1]! < s) k += 2;
          if (k >= se) break;
          if (s < starts[k]!) s = starts[k]!;
          if (s > last) break;
          limit = Math.min(last, starts[k + 1]!);
        }
        if (!anyFirst) {
          // Skip to the next char a match can start with.
          while (s <= limit && s < end) {
            const ch = text.charCodeAt(s);
            if (ch < 128 ? startOk[ch] === 1 : startWide) break;
            s++;
          }
          if (s >= end) break;
          if (s > limit) {
            s--; // the loop's s++ moves on to the next interval
            continue;
          }
        }
        let sp = 0;
        stack[sp++] = 0;
        stack[sp++] = s;
        while (sp > 0) {
          let p = stack[--sp]!;
          let pc = stack[--sp]!;
          for (;;) {
            const j = slot[pc]!;
            if (j >= 0) {
              const key = (p - base) * joins + j;
              if (visited[key] === gen) break;
              visited[key] = gen;
            }
            const o = op[pc]!;
            if (o === CLASS) {
              if (p >= end) break;
              const ch = text.charCodeAt(p);
              if (ch < 128 ? asciiOk[row[pc]! + ch] === 1 : matches(cls[pc]!, ch)) {
                pc = xs[pc]!;
                p++;
                continue;
              }
              break;
            }
            if (o === SPLIT) {
              // Dead branches are dropped here, before they are pushed or visited.
              const ch = p < end ? text.charCodeAt(p) : -1;
              const y = ys[pc]!;
              if (live(y, ch)) {
                if (sp + 2 > stack.length) {
                  const grown = new Int32Array(stack.length * 2);
                  grown.set(stack);
                  stack = grown;
                }
                stack[sp++] = y;
                stack[sp++] = p;
              }
              const x = xs[pc]!;
              if (!live(x, ch)) break;
              pc = x;
              continue;
            }
            if (o === ASSERT) {
              const k = kinds[pc]!;
              let ok: boolean;
              if (k <= 1) {
                // Word chars on each side of p, inside [base, end) only.
                const before = p > base ? text.charCodeAt(p - 1) : 128;
                const after = p < end ? text.charCodeAt(p) : 128;
                ok = ((before < 128 && WORD[before] === 1) !== (after < 128 && WORD[after] === 1)) === (k === 0);
              }
              else if (k === 2) ok = p === base;
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
