import type { TSchema } from '@sinclair/typebox';
import { ActionContextSchema, ActionSchema, FindingSchema, ServerSchema, SessionViewSchema } from '../domain/index.js';
import { WEEKDAYS } from './activation.js';
import type { CEL_VARIABLES } from './cel.js';

/**
 * The shape of a value a condition sees. An `object` lists its fields; `open` says other keys may
 * be present too (`args`, `attributes`, `context`), and a closed object has exactly these fields, so
 * any other name is a mistake. `enum` is a string with a declared set of values.
 */
export type Shape =
  | { readonly kind: 'object'; readonly fields: Readonly<Record<string, Shape>>; readonly open: boolean }
  | { readonly kind: 'list'; readonly of: Shape }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'string' | 'int' | 'number' | 'bool' | 'timestamp' | 'dyn' };

/** Any value: what an open object's undeclared keys hold. */
export const DYN: Shape = { kind: 'dyn' };

/** The subset of JSON Schema the domain schemas use, as TypeBox emits it. */
interface JsonSchema {
  type?: string;
  const?: unknown;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
}

/**
 * The shape of values valid under a domain schema. The schemas are the one place the fields and
 * enum values are declared (the API validates actions with them), so deriving the CEL shape from
 * them keeps lint from drifting away from what an action can carry.
 */
export function shapeOfSchema(schema: TSchema): Shape {
  return fromJson(schema as JsonSchema);
}

function fromJson(schema: JsonSchema): Shape {
  if (schema.anyOf && schema.anyOf.length > 0 && schema.anyOf.every((s) => typeof s.const === 'string')) {
    return { kind: 'enum', values: schema.anyOf.map((s) => s.const as string) };
  }
  switch (schema.type) {
    case 'object': {
      const fields: Record<string, Shape> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) fields[k] = fromJson(v);
      // A record (`patternProperties`) or `additionalProperties` other than `false` admits any key.
      const open = schema.additionalProperties !== false || schema.patternProperties !== undefined;
      return { kind: 'object', fields, open };
    }
    case 'array':
      return { kind: 'list', of: schema.items ? fromJson(schema.items) : DYN };
    case 'string':
      return { kind: 'string' };
    case 'integer':
      return { kind: 'int' };
    // toCelValue turns an integral number into a CEL int and any other into a double, so a `number`
    // field holds either at run time.
    case 'number':
      return { kind: 'number' };
    case 'boolean':
      return { kind: 'bool' };
    default:
      return DYN;
  }
}

/** A shape with fields. */
export type ObjectShape = Extract<Shape, { kind: 'object' }>;

/** The shape of a `Type.Object` schema (each schema this module passes is one). */
function objectShape(schema: TSchema): ObjectShape {
  return shapeOfSchema(schema) as ObjectShape;
}

/** The object with only the named fields of `shape`, closed: what the activation copies of it. */
function pick(shape: ObjectShape, names: readonly string[]): Shape {
  const fields: Record<string, Shape> = {};
  for (const n of names) fields[n] = shape.fields[n] ?? DYN;
  return { kind: 'object', fields, open: false };
}

const action = objectShape(ActionSchema);

/** An entity with the names of its live labels (Warden sets them; a caller cannot). */
function withLabels(s: Shape): Shape {
  const o = s as ObjectShape;
  return { ...o, fields: { ...o.fields, labels: { kind: 'list', of: { kind: 'string' } } } };
}
const context = objectShape(ActionContextSchema);

/**
 * What each variable holds, as `buildActivation` builds it: `action` carries only its kind and scope,
 * `server` only its name, and `context` gains the fields Warden sets itself (`time` becomes a CEL
 * timestamp, `hour` and `weekday` are read in the scope's time zone).
 */
export const CEL_SHAPE: Readonly<Record<(typeof CEL_VARIABLES)[number], Shape>> = {
  principal: withLabels(action.fields.principal!),
  agent: withLabels(action.fields.agent!),
  tool: action.fields.tool!,
  server: pick(objectShape(ServerSchema), ['name']),
  resource: action.fields.resource!,
  action: pick(action, ['kind', 'scope']),
  args: action.fields.args!,
  context: {
    kind: 'object',
    fields: { ...context.fields, time: { kind: 'timestamp' }, hour: { kind: 'int' }, weekday: { kind: 'enum', values: WEEKDAYS }, timezone: { kind: 'string' } },
    open: true,
  },
  findings: { kind: 'list', of: shapeOfSchema(FindingSchema) },
  session: shapeOfSchema(SessionViewSchema),
};

/** A shape as a short type name for messages and docs: `string`, `list<string>`, `map`, `object`, `"low" | "high"`. */
export function describeShape(s: Shape): string {
  switch (s.kind) {
    case 'object':
      return Object.keys(s.fields).length === 0 && s.open ? 'map' : 'object';
    case 'list':
      return `list<${describeShape(s.of)}>`;
    case 'enum':
      return s.values.map((v) => `"${v}"`).join(' | ');
    case 'number':
      return 'int or double';
    default:
      return s.kind;
  }
}
