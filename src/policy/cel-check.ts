import type { ASTNode } from '@marcbachmann/cel-js';
import { celErrorRange, describeCelError } from './cel.js';
import { declaredEnvironment } from './cel-declared.js';
import { CEL_SHAPE, DYN, describeShape, type ObjectShape, type Shape } from './cel-shape.js';
import { closest } from './closest-name.js';

/** A mistake against the declared shape, with the character range inside the condition. */
export interface ShapeProblem {
  code: 'lint/unknown-field' | 'lint/undeclared-value' | 'lint/type-mismatch';
  message: string;
  help?: string;
  start: number;
  end: number;
}

const BOOL: Shape = { kind: 'bool' };
const STRING: Shape = { kind: 'string' };
const MACROS = new Set(['all', 'exists', 'exists_one', 'filter', 'map']);

function isNode(x: unknown): x is ASTNode {
  return typeof x === 'object' && x !== null && 'op' in x && 'range' in x;
}

/** The AST nodes among a node's operands, in source order. */
function children(node: ASTNode): ASTNode[] {
  const out: ASTNode[] = [];
  const visit = (x: unknown): void => {
    if (isNode(x)) out.push(x);
    else if (Array.isArray(x)) for (const y of x) visit(y);
  };
  visit(node.args);
  return out;
}

/**
 * Walks a parsed condition, inferring the declared shape of each member selection, and reports
 * what the library's checker cannot: a string compared with an enum field that is not one of its
 * values, a `has()` of a field a closed object never holds (always false, never an error), a
 * literal of the wrong type compared with a field of `context` (an open map to the library), and
 * every unknown field and mistyped literal rather than only the first.
 */
class ShapeWalk {
  readonly problems: ShapeProblem[] = [];
  constructor(private readonly input: string) {}

  private text(n: ASTNode): string {
    return this.input.slice(n.range.start, n.range.end);
  }

  private field(recv: ASTNode, r: Shape | undefined, name: string, start: number, end: number, inHas: boolean): Shape | undefined {
    if (r?.kind === 'dyn') return DYN;
    if (r?.kind !== 'object') return undefined;
    if (Object.hasOwn(r.fields, name)) return r.fields[name];
    if (r.open) return DYN;
    this.unknownField(recv, r, name, start, end, inHas);
    return undefined;
  }

  private unknownField(recv: ASTNode, r: ObjectShape, name: string, start: number, end: number, inHas: boolean): void {
    const known = Object.keys(r.fields);
    const near = closest(name, known);
    const what = `\`${this.text(recv)}\` has no field \`${name}\``;
    this.problems.push({
      code: 'lint/unknown-field',
      message: inHas ? `\`has(${this.text(recv)}.${name})\` is always false: ${what}` : what,
      help: `${near ? `did you mean \`${near}\`? ` : ''}its fields are ${known.map((k) => `\`${k}\``).join(', ')}`,
      start,
      end,
    });
  }

  /** `other` compared with `subject`, of shape `s`: a string literal that is not one of an enum's values is never equal. */
  private compare(s: Shape | undefined, other: ASTNode, subject: string): void {
    if (s?.kind !== 'enum' || other.op !== 'value' || typeof other.args !== 'string') return;
    const v = other.args;
    if (s.values.includes(v)) return;
    const near = closest(v, s.values);
    this.problems.push({
      code: 'lint/undeclared-value',
      message: `${subject} is never "${v}"`,
      help: `${near ? `did you mean "${near}"? ` : ''}its values are ${describeShape(s).replaceAll(' | ', ', ')}`,
      start: other.range.start,
      end: other.range.end,
    });
  }

  /**
   * A literal of another type compared with a declared scalar: never equal, and an ordering fails at
   * run time. The library's checker sees this for closed objects but not for `context`, an open map
   * to it, whose `hour`, `weekday` and `time` Warden sets with known types.
   */
  private literalType(s: Shape | undefined, other: ASTNode, subject: string): void {
    if (s === undefined || other.op !== 'value') return;
    const v = other.args;
    const kind = typeof v === 'string' ? 'string' : typeof v === 'bigint' || typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'bool' : v === null ? 'null' : undefined;
    const declared = s.kind === 'enum' ? 'string' : s.kind === 'int' || s.kind === 'number' ? 'number' : s.kind;
    if (kind === undefined || !['string', 'number', 'bool', 'timestamp'].includes(declared) || kind === declared) return;
    this.problems.push({
      code: 'lint/type-mismatch',
      message: `\`${subject}\` is ${s.kind === 'enum' ? 'a string' : `${/^[aeiou]/.test(s.kind) ? 'an' : 'a'} ${describeShape(s)}`}, never ${kind === 'null' ? 'null' : `the ${kind} ${this.text(other)}`}`,
      ...(kind === 'null' ? { help: `use \`has(${subject})\` to test whether it is present` } : s.kind === 'timestamp' ? { help: `compare with \`timestamp(${this.text(other)})\`` } : {}),
      start: other.range.start,
      end: other.range.end,
    });
  }

  shapeOf(node: ASTNode, scope: ReadonlyMap<string, Shape | undefined>): Shape | undefined {
    switch (node.op) {
      case 'id':
        return scope.has(node.args) ? scope.get(node.args) : (CEL_SHAPE as Record<string, Shape | undefined>)[node.args];
      case '.':
      case '.?': {
        const [recv, name] = node.args;
        return this.field(recv, this.shapeOf(recv, scope), name, node.range.end - name.length, node.range.end, false);
      }
      case '[]':
      case '[?]': {
        const [recv, key] = node.args;
        const r = this.shapeOf(recv, scope);
        this.shapeOf(key, scope);
        if (r?.kind === 'list') return r.of;
        if (key.op === 'value' && typeof key.args === 'string') return this.field(recv, r, key.args, key.range.start, key.range.end, false);
        return r?.kind === 'object' && r.open ? DYN : undefined;
      }
      case 'call': {
        const [name, args] = node.args;
        const only = args.length === 1 ? args[0]! : undefined;
        if (name === 'has' && only?.op === '.') {
          const [recv, f] = only.args;
          this.field(recv, this.shapeOf(recv, scope), f, only.range.end - f.length, only.range.end, true);
          return BOOL;
        }
        for (const a of args) this.shapeOf(a, scope);
        return undefined;
      }
      case 'rcall':
        return this.method(node.args, scope);
      case '==':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const [a, b] = node.args;
        const sa = this.shapeOf(a, scope);
        const sb = this.shapeOf(b, scope);
        this.literalType(sa, b, this.text(a));
        this.literalType(sb, a, this.text(b));
        if (node.op === '==' || node.op === '!=') {
          this.compare(sa, b, `\`${this.text(a)}\``);
          this.compare(sb, a, `\`${this.text(b)}\``);
        }
        return BOOL;
      }
      case 'in': {
        const [a, b] = node.args;
        const sa = this.shapeOf(a, scope);
        const sb = this.shapeOf(b, scope);
        // `"x" in findings.map(f, f.category)` and `tool.risk in ["high", "critical"]`.
        if (sb?.kind === 'list') this.compare(sb.of, a, `an element of \`${this.text(b)}\``);
        if (b.op === 'list') for (const el of b.args) this.compare(sa, el, `\`${this.text(a)}\``);
        return BOOL;
      }
      default:
        for (const c of children(node)) this.shapeOf(c, scope);
        return undefined;
    }
  }

  /** A receiver call: a comprehension macro binds its variable to the receiver's elements. */
  private method([name, recv, args]: [string, ASTNode, ASTNode[]], scope: ReadonlyMap<string, Shape | undefined>): Shape | undefined {
    const bound = args[0]?.op === 'id' ? args[0].args : undefined;
    if (name === 'bind' && recv.op === 'id' && recv.args === 'cel' && bound !== undefined && args.length === 3) {
      const inner = new Map(scope).set(bound, this.shapeOf(args[1]!, scope));
      return this.shapeOf(args[2]!, inner);
    }
    const r = this.shapeOf(recv, scope);
    if (MACROS.has(name) && bound !== undefined && (args.length === 2 || args.length === 3)) {
      // A map's comprehension variable is its key.
      const element = r?.kind === 'list' ? r.of : r?.kind === 'object' ? STRING : undefined;
      const inner = new Map(scope).set(bound, element);
      const shapes = args.slice(1).map((a) => this.shapeOf(a, inner));
      if (name === 'filter') return r;
      if (name === 'map') return { kind: 'list', of: shapes.at(-1) ?? DYN };
      return BOOL;
    }
    for (const a of args) this.shapeOf(a, scope);
    return undefined;
  }
}

/**
 * Checks a condition that already compiles against the declared shape of what conditions see
 * (cel-shape.ts): unknown fields of closed objects, strings that are not a declared enum value, and
 * type errors only the declared types reveal (`principal.roles == "admin"`). Each is a condition
 * that can never be true, or fails at run time and is treated as a deny.
 */
export function checkConditionShape(expression: string, ast: ASTNode): ShapeProblem[] {
  const walk = new ShapeWalk(expression);
  walk.shapeOf(ast, new Map());
  const problems = walk.problems;
  const checked = declaredEnvironment.check(expression);
  if (!checked.valid && checked.error) {
    const message = describeCelError(checked.error);
    const unknown = /^No such key: (.*)$/.exec(message);
    const code = unknown ? 'lint/unknown-field' : 'lint/type-mismatch';
    const range = celErrorRange(checked.error, expression.length);
    // The library stops at its first error; the walk finds every unknown field and mistyped literal,
    // with a clearer message. Keep the library's only where the walk found nothing of its kind.
    if (!problems.some((p) => p.code === code && p.start < range.end && range.start < p.end)) {
      problems.push({
        code,
        message: unknown ? `no field \`${unknown[1]}\`` : `with the declared types of the variables, ${message}`,
        help: 'docs/policy-authoring.md lists each variable\'s fields and their types',
        ...range,
      });
    }
  }
  return problems.sort((a, b) => a.start - b.start);
}
