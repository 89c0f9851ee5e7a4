import { Type, type Static } from '@sinclair/typebox';
import { parse } from 'yaml';
import { AgentSchema, ToolSchema, WardenError, compileValidator, formatIssues } from '../domain/index.js';

/** A `kind: Registry` document: tools and agents `warden serve --registry FILE` imports into the database registry. */
export const RegistryDocSchema = Type.Object(
  {
    apiVersion: Type.Literal('warden.dev/v1'),
    kind: Type.Literal('Registry'),
    spec: Type.Object(
      { tools: Type.Optional(Type.Array(ToolSchema)), agents: Type.Optional(Type.Array(AgentSchema)) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type RegistryDoc = Static<typeof RegistryDocSchema>;

const check = compileValidator(RegistryDocSchema);

/** Parses and validates a registry file's text; throws `config.invalid` naming the file. */
export function parseRegistryFile(file: string, text: string): RegistryDoc {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new WardenError('config.invalid', `registry file \`${file}\` is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const r = check(raw);
  if (!r.ok) throw new WardenError('config.invalid', `registry file \`${file}\` is invalid: ${formatIssues(r.issues)}`);
  return r.value;
}
