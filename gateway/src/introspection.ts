import { Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/** `__schema` and `__type` reveal the schema; `__typename` is ordinary data and always allowed. */
const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/**
 * True when the operation introspects the schema. Validation allows `__schema` and `__type` only on
 * the query root, so only the root selection set (with its fragments) has to be looked at.
 */
export function usesIntrospection(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  if (operation.operation !== 'query') return false;
  const fragments = new Map<string, SelectionSetNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition.selectionSet);
  }
  const seen = new Set<string>();
  const search = (selectionSet: SelectionSetNode): boolean =>
    selectionSet.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return INTROSPECTION_FIELDS.has(selection.name.value);
      if (selection.kind === Kind.INLINE_FRAGMENT) return search(selection.selectionSet);
      const name = selection.name.value;
      if (seen.has(name)) return false;
      seen.add(name);
      const fragment = fragments.get(name);
      return fragment ? search(fragment) : false;
    });
  return search(operation.selectionSet);
}

/**
 * Whether introspection is served: GATEWAY_INTROSPECTION when set, else only with NODE_ENV=development
 * (the embedded `npm start`), so a production gateway does not hand out its schema.
 */
export function introspectionEnabled(setting: 'true' | 'false' | undefined, nodeEnv: string): boolean {
  return setting === undefined ? nodeEnv === 'development' : setting === 'true';
}
