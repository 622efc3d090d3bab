import {
  isTypeDefinitionNode,
  isTypeExtensionNode,
  Kind,
  parse,
  type ConstDirectiveNode,
  type ConstValueNode,
  type DocumentNode,
} from 'graphql';

/** How many items a list field is assumed to return (`@listSize`). */
export interface ListSizeRule {
  /** Used when no slicing argument has a value. */
  assumedSize: number | null;
  /** Arguments whose value is the list's size (`turns(last: 5)`); the largest given wins. */
  slicingArguments: readonly string[];
}

/**
 * The schema's own cost annotations: `@cost(weight:)` on fields and types and `@listSize` on
 * list fields, as composed into the supergraph (the `https://specs.apollo.dev/cost` link).
 */
export interface CostAnnotations {
  fieldWeight(typeName: string, fieldName: string): number | undefined;
  typeWeight(typeName: string): number | undefined;
  listSize(typeName: string, fieldName: string): ListSizeRule | undefined;
}

/** The weights of the documented cost model (gateway/README.md, "Cost model"). */
export const COST_WEIGHTS = {
  /** A field returning an object, interface or union: one object to resolve (or fetch). */
  object: 1,
  /** A scalar or enum field: resolved with its parent, free. */
  leaf: 0,
  /** A root field of a query: at least one subgraph fetch, even when it returns a scalar. */
  queryRoot: 1,
  /** A root field of a mutation: a write. */
  mutationRoot: 10,
  /** A root field of a subscription: a long-lived upstream stream. */
  subscriptionRoot: 10,
} as const;

const COST_SPEC = /^https:\/\/specs\.apollo\.dev\/cost\/v\d+\.\d+$/;

const stringOf = (value: ConstValueNode | undefined): string | undefined => (value?.kind === Kind.STRING ? value.value : undefined);
const intOf = (value: ConstValueNode | undefined): number | undefined => (value?.kind === Kind.INT ? Number(value.value) : undefined);
const argumentOf = (directive: ConstDirectiveNode, name: string): ConstValueNode | undefined =>
  directive.arguments?.find((a) => a.name.value === name)?.value;

/** The names `@cost` and `@listSize` have in this supergraph (a link may rename or namespace them). */
function costDirectiveNames(document: DocumentNode): { cost: string; listSize: string } | null {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== 'link') continue;
      const url = stringOf(argumentOf(directive, 'url'));
      if (!url || !COST_SPEC.test(url)) continue;
      const cost = (stringOf(argumentOf(directive, 'as')) ?? 'cost').replace(/^@/, '');
      let listSize = `${cost}__listSize`;
      const imports = argumentOf(directive, 'import');
      for (const entry of imports?.kind === Kind.LIST ? imports.values : []) {
        if (stringOf(entry) === '@listSize') listSize = 'listSize';
        if (entry.kind === Kind.OBJECT) {
          const field = (n: string) => stringOf(entry.fields.find((f) => f.name.value === n)?.value);
          if (field('name') === '@listSize') listSize = (field('as') ?? '@listSize').replace(/^@/, '');
        }
      }
      return { cost, listSize };
    }
  }
  return null;
}

/** Reads `@cost` and `@listSize` from a composed supergraph SDL; none when it does not link the cost spec. */
export function costAnnotationsOf(supergraphSdl: string): CostAnnotations {
  const document = parse(supergraphSdl);
  const names = costDirectiveNames(document);
  const fieldWeights = new Map<string, number>();
  const typeWeights = new Map<string, number>();
  const listSizes = new Map<string, ListSizeRule>();
  if (names) {
    const weightOf = (directives: readonly ConstDirectiveNode[] | undefined) => {
      const directive = directives?.find((d) => d.name.value === names.cost);
      return directive ? intOf(argumentOf(directive, 'weight')) : undefined;
    };
    for (const definition of document.definitions) {
      if (!isTypeDefinitionNode(definition) && !isTypeExtensionNode(definition)) continue;
      const typeName = definition.name.value;
      const typeWeight = weightOf(definition.directives);
      if (typeWeight !== undefined) typeWeights.set(typeName, typeWeight);
      if (
        definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
        definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
        definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
        definition.kind !== Kind.INTERFACE_TYPE_EXTENSION
      ) {
        continue;
      }
      for (const field of definition.fields ?? []) {
        const key = `${typeName}.${field.name.value}`;
        const weight = weightOf(field.directives);
        if (weight !== undefined) fieldWeights.set(key, weight);
        const listSize = field.directives?.find((d) => d.name.value === names.listSize);
        if (!listSize) continue;
        const slicing = argumentOf(listSize, 'slicingArguments');
        listSizes.set(key, {
          assumedSize: intOf(argumentOf(listSize, 'assumedSize')) ?? null,
          slicingArguments: slicing?.kind === Kind.LIST ? slicing.values.map(stringOf).filter((s): s is string => s !== undefined) : [],
        });
      }
    }
  }
  return {
    fieldWeight: (typeName, fieldName) => fieldWeights.get(`${typeName}.${fieldName}`),
    typeWeight: (typeName) => typeWeights.get(typeName),
    listSize: (typeName, fieldName) => listSizes.get(`${typeName}.${fieldName}`),
  };
}
