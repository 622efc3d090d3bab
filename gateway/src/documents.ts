import {
  getOperationAST,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { sha256Hex } from './persisted/manifest';

export interface PreparedDocument {
  document: DocumentNode;
  /** sha256 of the query text: @apollo/gateway keys its query-plan cache with it. */
  queryHash: string;
}
export type Prepared = { ok: true; prepared: PreparedDocument } | { ok: false; errors: GraphQLError[] };

/**
 * Parsing and validating a document costs more than planning a cached one, so results (also
 * failures) are kept per query text in a small LRU (a Map in insertion order).
 */
export class DocumentCache {
  private readonly entries = new Map<string, Prepared>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly capacity: number,
  ) {}

  prepare(query: string): Prepared {
    const hit = this.entries.get(query);
    if (hit) {
      this.entries.delete(query);
      this.entries.set(query, hit);
      return hit;
    }
    const prepared = this.compile(query);
    if (this.capacity > 0) {
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(query, prepared);
    }
    return prepared;
  }

  private compile(query: string): Prepared {
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: 10_000 });
    } catch (error) {
      const e = error as GraphQLError;
      return {
        ok: false,
        errors: [new GraphQLError(e.message, { source: e.source, positions: e.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } })],
      };
    }
    const errors = validate(this.schema, document);
    if (errors.length > 0) {
      return {
        ok: false,
        errors: errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })),
      };
    }
    return { ok: true, prepared: { document, queryHash: sha256Hex(query) } };
  }
}

export function operationOf(document: DocumentNode, operationName: string | undefined): OperationDefinitionNode | null {
  return getOperationAST(document, operationName) ?? null;
}

export type SelectedOperation =
  | { ok: true; document: DocumentNode; operation: OperationDefinitionNode; queryHash: string; planKey: string }
  | { ok: false; errors: GraphQLError[] };

/**
 * A request's document (cached parse and validation) and the operation it names, with the key its
 * plan is cached under: what HTTP, SSE and graphql-ws requests all start with.
 */
export function selectOperation(documents: DocumentCache, query: string, operationName: string | undefined): SelectedOperation {
  const prepared = documents.prepare(query);
  if (!prepared.ok) return prepared;
  const { document, queryHash } = prepared.prepared;
  const operation = operationOf(document, operationName);
  if (!operation) {
    const message = operationName ? `Unknown operation "${operationName}".` : 'The document has several operations: give `operationName`.';
    return { ok: false, errors: [new GraphQLError(message, { extensions: { code: 'BAD_REQUEST' } })] };
  }
  return { ok: true, document, operation, queryHash, planKey: `${queryHash}:${operationName ?? ''}` };
}
