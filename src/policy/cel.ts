import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import { RE2 } from 're2-wasm';
import { compileGlob, type GlobMatcher } from '../domain/glob.js';

/** The variables every `when` condition sees. */
export const CEL_VARIABLES = ['principal', 'agent', 'tool', 'server', 'resource', 'action', 'args', 'context', 'findings', 'session'] as const;

/** One of `CEL_VARIABLES`. */
export type CelVariable = (typeof CEL_VARIABLES)[number];

/** A compiled condition: returns the value or throws the engine's evaluation error. */
export type CelProgram = (activation: Readonly<Record<string, unknown>>) => unknown;

/** Why a condition failed to compile, with the character range inside the expression. */
export interface CelCompileError {
  message: string;
  start: number;
  end: number;
}

const MAX_REGEX_CACHE = 1024;
// Compiled patterns and globs are memoized across policy sets: a compiled RE2 (no `g` or `y` flag, so
// no `lastIndex` state) and a glob matcher are pure functions of their source, and each table is
// cleared when it reaches MAX_REGEX_CACHE entries, so sharing them is unobservable except in time.
// INVARIANT: pure memo, bounded (value = f(key), at most MAX_REGEX_CACHE entries).
const regexCache = new Map<string, RE2>();
// INVARIANT: pure memo, bounded (value = f(key), at most MAX_REGEX_CACHE entries).
const globCache = new Map<string, GlobMatcher>();

function re2(pattern: string): RE2 {
  let r = regexCache.get(pattern);
  if (r === undefined) {
    r = new RE2(pattern, 'u');
    // Bounded so that attacker-influenced patterns (from args) cannot grow memory without limit.
    if (regexCache.size >= MAX_REGEX_CACHE) regexCache.clear();
    regexCache.set(pattern, r);
  }
  return r;
}

/**
 * A fresh environment with Warden's options and functions and no variables: the run-time
 * environment declares every variable `dyn`, lint's declares their shapes (cel-check.ts), and both
 * must agree on everything else or lint would judge a different language than the checkpoint runs.
 */
export function celEnvironment(): Environment {
  return new Environment({
    unlistedVariablesAreDyn: false,
    homogeneousAggregateLiterals: false,
    // Parse limits keep a hostile or runaway condition from costing more than a policy author meant.
    limits: { maxAstNodes: 2000, maxDepth: 64, maxListElements: 500, maxMapEntries: 500, maxCallArguments: 16 },
  })
    .registerFunction({
      name: 're2Matches',
      receiverType: 'string',
      returnType: 'bool',
      description: 'linear-time regular expression test (RE2 syntax); use instead of matches()',
      params: [{ name: 'pattern', type: 'string' }],
      handler: (s: string, pattern: string) => re2(pattern).test(s),
    })
    .registerFunction({
      name: 'globMatches',
      receiverType: 'string',
      returnType: 'bool',
      description: 'true when the string matches a glob where `*` matches any run of characters',
      params: [{ name: 'glob', type: 'string' }],
      handler: (s: string, glob: string) => {
        let m = globCache.get(glob);
        if (m === undefined) {
          m = compileGlob(glob);
          if (globCache.size >= MAX_REGEX_CACHE) globCache.clear();
          globCache.set(glob, m);
        }
        return m(s);
      },
    })
    .registerFunction({
      name: 'under',
      receiverType: 'string',
      returnType: 'bool',
      description: 'true when a scope path equals the given path or lies below it',
      params: [{ name: 'ancestor', type: 'string' }],
      handler: (s: string, ancestor: string) => s === ancestor || s.startsWith(`${ancestor}/`),
    });
}

// Configured once, here, at load; afterwards only `check` and `parse` read it.
const environment = celEnvironment();
for (const v of CEL_VARIABLES) environment.registerVariable(v, 'dyn');

/** Where in the expression an engine error points (the whole expression when it does not say). */
export function celErrorRange(err: unknown, exprLength: number): { start: number; end: number } {
  const range = (err as { range?: { start?: number; end?: number } } | undefined)?.range;
  const start = typeof range?.start === 'number' ? range.start : 0;
  const end = typeof range?.end === 'number' ? range.end : exprLength;
  return { start, end };
}

function summaryOf(err: unknown): string {
  const e = err as { summary?: unknown; message?: unknown };
  const text = typeof e.summary === 'string' ? e.summary : typeof e.message === 'string' ? e.message : String(err);
  return text.split('\n')[0]!.trim();
}

/** What compiling a condition gives: the program, or a positioned error. */
export type CelCompileResult = { ok: true; program: CelProgram; ast: ASTNode } | { ok: false; error: CelCompileError };

/** Parses and type-checks a policy condition once; returns the program or a positioned error. */
export function compileCel(expression: string): CelCompileResult {
  return compileIn(environment, expression);
}

/**
 * A compiler for conditions over other variables (abuse rules see `event` and `features` beside the
 * policy variables): the same functions, limits and checks as policy conditions, one environment.
 */
export function celCompilerFor(variables: readonly string[]): (expression: string, opts?: { value?: boolean }) => CelCompileResult {
  const env = celEnvironment();
  for (const v of variables) env.registerVariable(v, 'dyn');
  return (expression, opts) => compileIn(env, expression, opts?.value === true);
}

/** Compiles in `environment`; a condition must be a bool, a `value` expression (an abuse feature's `of`) may be anything. */
function compileIn(environment: Environment, expression: string, value = false): CelCompileResult {
  let checked: { valid: boolean; type?: string; error?: unknown };
  try {
    checked = environment.check(expression) as typeof checked;
  } catch (err) {
    return { ok: false, error: { message: summaryOf(err), ...celErrorRange(err, expression.length) } };
  }
  if (!checked.valid) {
    return { ok: false, error: { message: summaryOf(checked.error), ...celErrorRange(checked.error, expression.length) } };
  }
  if (!value && checked.type !== 'bool' && checked.type !== 'dyn') {
    return { ok: false, error: { message: `condition must be a bool, but it is a ${String(checked.type)}`, start: 0, end: expression.length } };
  }
  try {
    const parsed = environment.parse(expression);
    return { ok: true, program: parsed as unknown as CelProgram, ast: parsed.ast };
  } catch (err) {
    return { ok: false, error: { message: summaryOf(err), ...celErrorRange(err, expression.length) } };
  }
}

// The variables each program reads: a pure function of the program (its AST never changes).
// INVARIANT: pure memo, bounded (value = f(key), entries die with their program: a WeakMap).
const variablesByProgram = new WeakMap<CelProgram, readonly CelVariable[]>();

/**
 * The variables of `CEL_VARIABLES` a program names anywhere in its expression (every one of them
 * when its syntax tree cannot be read): a decision builds only these. A comprehension's own
 * variable that shadows one of them (`findings.exists(tool, …)`) counts too, which only builds
 * one variable more than needed.
 */
export function variablesRead(program: CelProgram): readonly CelVariable[] {
  let read = variablesByProgram.get(program);
  if (read === undefined) {
    const ast = (program as { ast?: unknown }).ast;
    if (ast === undefined || ast === null || typeof ast !== 'object') read = CEL_VARIABLES;
    else {
      const found = new Set<CelVariable>();
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) for (const n of node) walk(n);
        else if (node !== null && typeof node === 'object') {
          const { op, args } = node as { op?: unknown; args?: unknown };
          if (op === 'id' && typeof args === 'string') {
            if ((CEL_VARIABLES as readonly string[]).includes(args)) found.add(args as CelVariable);
          } else walk(args);
        }
      };
      walk(ast);
      read = CEL_VARIABLES.filter((v) => found.has(v));
    }
    variablesByProgram.set(program, read);
  }
  return read;
}

/** A one-line, user-facing message for a run-time evaluation failure. */
export function describeCelError(err: unknown): string {
  return summaryOf(err);
}

/**
 * Converts plain JSON data into the value shapes CEL expects: integers become BigInt (CEL `int`),
 * so `args.count > 3` compares ints; everything else is copied as is.
 */
export function toCelValue(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCelValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    // Object.keys then a read per key, rather than Object.entries: no pair array per field.
    for (const k of Object.keys(value)) out[k] = toCelValue((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}
