import type { Environment } from '@marcbachmann/cel-js';
import { CEL_VARIABLES, celEnvironment } from './cel.js';
import { CEL_SHAPE, type Shape } from './cel-shape.js';

type CelVariable = (typeof CEL_VARIABLES)[number];

/** The library's name for a shape; closed objects become registered message types. */
function celType(env: Environment, s: Shape, name: string): string {
  switch (s.kind) {
    case 'object': {
      // Open objects (args, attributes, context) are maps: any key type-checks, as it may be present.
      if (s.open) return 'map<string, dyn>';
      const fields: Record<string, string> = {};
      for (const [k, f] of Object.entries(s.fields)) fields[k] = celType(env, f, `${name}.${k}`);
      // A constructor keeps the library from building a converter, which only evaluation needs:
      // this environment only checks, the run-time one (cel.ts) still sees plain `dyn` values.
      const ctor = { [name]: class {} }[name]!;
      env.registerType(name, { ctor, fields });
      return name;
    }
    case 'list':
      return `list<${celType(env, s.of, `${name}.item`)}>`;
    case 'enum':
    case 'string':
      return 'string';
    case 'int':
      return 'int';
    case 'bool':
      return 'bool';
    // A `number` holds an int or a double at run time (toCelValue); a timestamp sits only in the
    // open `context`, whose fields the library does not see.
    default:
      return 'dyn';
  }
}

const TYPE_NAMES: Record<CelVariable, string> = {
  principal: 'Principal',
  agent: 'Agent',
  tool: 'Tool',
  server: 'Server',
  resource: 'Resource',
  action: 'Action',
  args: 'Args',
  context: 'Context',
  findings: 'Finding',
  session: 'Session',
};

/**
 * The environment lint type-checks conditions in: Warden's functions, and each variable declared
 * with its shape, so the library's checker knows each closed object's fields and types. Built once,
 * at load; only `check` reads it.
 */
export const declaredEnvironment = celEnvironment();
for (const v of CEL_VARIABLES) {
  const s = CEL_SHAPE[v];
  declaredEnvironment.registerVariable(v, s.kind === 'list' ? `list<${celType(declaredEnvironment, s.of, TYPE_NAMES[v])}>` : celType(declaredEnvironment, s, TYPE_NAMES[v]));
}
