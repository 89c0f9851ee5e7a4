import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats ships CJS; its default export arrives under `.default` in some loaders.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** Checks tool arguments against the tool's `inputSchema`; compiled once per definition hash. */
export interface ArgValidator {
  /** Undefined when the arguments are valid, else one line per problem. */
  check(hash: string, schema: Record<string, unknown>, args: Record<string, unknown> | undefined): string[] | undefined;
}

/** Builds an ajv-backed validator. A schema ajv cannot compile is reported, never skipped. */
export function createArgValidator(): ArgValidator {
  const ajv = addFormats(new Ajv({ allErrors: true, strict: false, validateSchema: false }));
  const compiled = new Map<string, ValidateFunction | string>();
  return {
    check(hash, schema, args) {
      let fn = compiled.get(hash);
      if (fn === undefined) {
        try {
          // `$schema` draft markers (draft-07, 2020-12) would make ajv look for a meta-schema it may not hold.
          const { $schema: _ignored, ...body } = schema;
          fn = ajv.compile(body);
        } catch (err) {
          fn = `the tool's input schema cannot be compiled: ${(err as Error).message}`;
        }
        compiled.set(hash, fn);
      }
      if (typeof fn === 'string') return [fn];
      if (fn(args ?? {})) return undefined;
      return (fn.errors ?? []).map((e) => {
        const where = e.instancePath || '/';
        if (e.keyword === 'required') return `\`${where}\` missing required field \`${String(e.params.missingProperty)}\``;
        if (e.keyword === 'additionalProperties') return `\`${where}\` unknown field \`${String(e.params.additionalProperty)}\``;
        return `\`${where}\` ${e.message ?? 'is invalid'}`;
      });
    },
  };
}
