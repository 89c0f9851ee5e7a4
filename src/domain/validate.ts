import type { TSchema, Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { echoKey, echoText } from './json-limits.js';

// ajv-formats ships CJS; its default export arrives under `.default` in some loaders.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

const ajv = addFormats(new Ajv({ allErrors: true, strict: false, verbose: true }));

/** One validation problem, at a JSON pointer into the input. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** Outcome of checking untrusted input against a schema. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/**
 * Returns a checker producing precise, user-facing issues; the schema is compiled once, on the first
 * check, so a module that declares a validator costs nothing at import (the CLI's start-up).
 */
export function compileValidator<S extends TSchema>(schema: S): (input: unknown) => ValidationResult<Static<S>> {
  let fn: ValidateFunction | undefined;
  return (input) => {
    fn ??= ajv.compile(schema);
    return fn(input) ? { ok: true, value: input as Static<S> } : { ok: false, issues: describeIssues(fn.errors ?? []) };
  };
}

/**
 * A pattern for identifiers and names that reach database text columns and lookups, which cannot
 * hold NUL (U+0000). {@link describeIssues} names it precisely.
 */
export const NO_NUL_PATTERN = '^[^\\u0000]*$';


/** Most issues one error reports; the rest are counted, so a hostile body cannot inflate the answer. */
export const MAX_ISSUES = 20;

/** Turns ajv errors into one readable sentence each, dropping the noise `anyOf` branches add; at most {@link MAX_ISSUES}, field names cut short. */
export function describeIssues(errors: ErrorObject[]): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const seen = new Set<string>();
  let more = 0;
  for (const e of errors) {
    const path = e.instancePath ? e.instancePath.split('/').map((seg) => (seg === '' ? seg : echoKey(seg.replace(/~1/g, '/').replace(/~0/g, '~')))).join('/') : '/';
    let message: string;
    switch (e.keyword) {
      case 'additionalProperties':
        message = `unknown field \`${echoText(String(e.params.additionalProperty))}\``;
        break;
      case 'required':
        message = `missing required field \`${String(e.params.missingProperty)}\``;
        break;
      case 'const':
        message = `must be \`${String(e.params.allowedValue)}\``;
        break;
      case 'anyOf': {
        const allowed = errors
          .filter((x) => x.instancePath === e.instancePath && x.keyword === 'const')
          .map((x) => `\`${String(x.params.allowedValue)}\``);
        message = allowed.length > 0 ? `must be one of ${allowed.join(', ')}` : 'does not match any allowed shape';
        break;
      }
      case 'pattern':
        if (e.params.pattern === NO_NUL_PATTERN) {
          message = 'must not contain a NUL character (U+0000)';
          break;
        }
      // falls through
      case 'format': {
        const described = (e.parentSchema as { description?: string } | undefined)?.description;
        message = described ? `must be ${described}` : (e.message ?? 'is invalid');
        break;
      }
      default:
        message = e.message ?? 'is invalid';
    }
    if (e.keyword === 'const' && errors.some((x) => x.instancePath === e.instancePath && x.keyword === 'anyOf')) continue;
    const key = `${path} ${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (out.length < MAX_ISSUES) out.push({ path, message });
    else more++;
  }
  if (more > 0) out.push({ path: '/', message: `and ${more} more ${more === 1 ? 'problem' : 'problems'}` });
  return out;
}

/** `path message; path message` for one-line error output. */
export function formatIssues(issues: ValidationIssue[]): string {
  return issues.map((i) => `\`${i.path}\` ${i.message}`).join('; ');
}
