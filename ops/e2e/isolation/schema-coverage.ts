import { Kind, parse, type DirectiveNode, type DocumentNode, type ObjectTypeDefinitionNode, type ObjectTypeExtensionNode } from 'graphql';

export const ROOT_TYPES = ['Query', 'Mutation', 'Subscription'] as const;

type ObjectNode = ObjectTypeDefinitionNode | ObjectTypeExtensionNode;
const objectNodes = (document: DocumentNode): ObjectNode[] =>
  document.definitions.filter((d): d is ObjectNode => d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION);

const isInaccessible = (directives: readonly DirectiveNode[] | undefined): boolean =>
  (directives ?? []).some((d) => d.name.value === 'inaccessible');

/**
 * Every root field clients can call, as `Query.session`, read from the composed supergraph
 * (fields marked @inaccessible are not part of the API and are left out).
 */
export function apiRootFields(supergraphSdl: string): string[] {
  const fields = new Set<string>();
  for (const node of objectNodes(parse(supergraphSdl))) {
    if (!(ROOT_TYPES as readonly string[]).includes(node.name.value)) continue;
    for (const field of node.fields ?? []) {
      if (!isInaccessible(field.directives)) fields.add(`${node.name.value}.${field.name.value}`);
    }
  }
  return [...fields].sort();
}

/** `resolvable: false` keys are only references: that subgraph answers no `_entities` for them. */
function isResolvableKey(directive: DirectiveNode): boolean {
  const resolvable = directive.arguments?.find((a) => a.name.value === 'resolvable');
  return !(resolvable && resolvable.value.kind === Kind.BOOLEAN && !resolvable.value.value);
}

/** The entity types a subgraph resolves through `_entities`, as `session.Session`. */
export function resolvableEntities(subgraph: string, subgraphSdl: string): string[] {
  const entities = new Set<string>();
  for (const node of objectNodes(parse(subgraphSdl))) {
    if ((node.directives ?? []).some((d) => d.name.value === 'key' && isResolvableKey(d))) entities.add(`${subgraph}.${node.name.value}`);
  }
  return [...entities].sort();
}

/** What the schema has and the case table does not: must be empty, or a new operation went untested. */
export const uncovered = (required: readonly string[], covered: Iterable<string>): string[] => {
  const have = new Set(covered);
  return required.filter((name) => !have.has(name));
};
