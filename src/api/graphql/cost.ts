import { Kind, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/** What the cost model counts with; docs/graphql.md states the values in force. */
export interface CostModel {
  /** The expected length of a list whose size no argument says. */
  listSize: number;
  /** The same for introspection's lists (`__Type.fields`…), answered from the schema in memory rather than by a service. */
  introspectionListSize: number;
  /**
   * Fields whose list length an argument names (`Type.field` → argument): the argument's value, from
   * the query or its variables, else `default`. The field's whole selection is multiplied by it.
   */
  sizedBy: Readonly<Record<string, { arg: string; default: number }>>;
  /** List fields inside a sized field, already counted by it (`Type.field`). */
  counted: readonly string[];
}

/** A type as its printed form gives it (`[Tool!]!`): read that way, not with graphql's `instanceof`
 * helpers, because mercurius builds the schema with graphql's CommonJS copy and a test runner may
 * load this module with its ES one; the two copies' classes are not each other's. */
function shape(typeText: string): { list: boolean; named: string } {
  const nullable = typeText.endsWith('!') ? typeText.slice(0, -1) : typeText;
  return { list: nullable.startsWith('['), named: typeText.replace(/[[\]!]/g, '') };
}

type Fields = Record<string, { name: string; type: { toString(): string } }>;

/** The fields of an object or interface type; none for a scalar, an enum or a union (only `__typename`). */
function fieldsOf(schema: GraphQLSchema, typeName: string): Fields | undefined {
  const t = schema.getType(typeName) as unknown as { getFields?: () => Fields; getTypes?: () => unknown } | undefined;
  if (t?.getFields) return t.getFields();
  return t?.getTypes ? {} : undefined;
}

/**
 * The estimated cost of the operation a request runs: every field selected costs 1 (introspection's
 * too), times the expected length of every list above it. Computed on the document and the request's
 * variables before anything executes, so a query that would fan out too far is refused whole.
 * Fragments are followed; a fragment spread inside itself cannot occur (validation refuses it first).
 */
export function queryCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined, model: CostModel): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    else if (d.kind === Kind.OPERATION_DEFINITION) operations.push(d);
  }
  const chosen = operationName === undefined ? operations : operations.filter((o) => o.name?.value === operationName);
  const intArg = (field: FieldNode, name: string): number | undefined => {
    const v = field.arguments?.find((a) => a.name.value === name)?.value;
    const raw = v?.kind === Kind.VARIABLE ? variables?.[v.name.value] : v?.kind === Kind.INT ? Number(v.value) : undefined;
    return typeof raw === 'number' && Number.isFinite(raw) && raw > 0 ? raw : undefined;
  };
  const root = schema.getQueryType()?.name;
  const typeOf = (parent: string, name: string): string | undefined => {
    if (name === '__typename') return 'String!';
    if (parent === root && name === '__schema') return '__Schema!';
    if (parent === root && name === '__type') return '__Type';
    return fieldsOf(schema, parent)?.[name]?.type.toString();
  };
  const costOf = (set: SelectionSetNode, parent: string): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments.get(sel.name.value);
        if (f) total += costOf(f.selectionSet, f.typeCondition.name.value);
        continue;
      }
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        total += costOf(sel.selectionSet, sel.typeCondition?.name.value ?? parent);
        continue;
      }
      const typeText = typeOf(parent, sel.name.value);
      if (typeText === undefined) continue;
      const key = `${parent}.${sel.name.value}`;
      const { list, named } = shape(typeText);
      const sized = model.sizedBy[key];
      const listSize = parent.startsWith('__') ? model.introspectionListSize : model.listSize;
      const times = sized ? (intArg(sel, sized.arg) ?? sized.default) : list && !model.counted.includes(key) ? listSize : 1;
      const below = sel.selectionSet ? costOf(sel.selectionSet, named) : 0;
      total += times * (1 + below);
    }
    return total;
  };
  if (root === undefined) return 0;
  let most = 0;
  for (const op of chosen) most = Math.max(most, op.operation === 'query' ? costOf(op.selectionSet, root) : 0);
  return most;
}
