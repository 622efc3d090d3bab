import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { sha256Hex } from '../persisted/manifest';

export interface PreparedDocument {
  document: DocumentNode;
  /** sha256 of the query text: the cache key, and @apollo/gateway keys its query-plan cache with it. */
  queryHash: string;
}
export type Prepared = { ok: true; prepared: PreparedDocument } | { ok: false; errors: GraphQLError[] };

/** graphql-js's bound on tokens per document (comments are not tokens: MAX_QUERY_BYTES bounds those). */
export const MAX_TOKENS = 10_000;
/**
 * What one token of a parsed, validated and planned document keeps on the heap (AST node, its
 * location, its share of the executor's cached operation context and query plan), rounded up from
 * `npm run bench:gateway-memory`: 2,000 distinct `query { topProducts(first: n) { upc sN: name price } }`
 * documents grew the gateway's RSS by 36 MB, about 18 KB per document of 14 tokens.
 */
const BYTES_PER_TOKEN = 1024;
/** Map entry, hash key, PreparedDocument and the plan cache's per-document objects. */
const BYTES_PER_ENTRY = 4096;

/**
 * What a cached document costs: its text (the AST's locations keep the whole source, comments
 * included; two bytes per character at worst) and its nodes.
 */
export const retainedBytes = (query: string, document: DocumentNode): number =>
  BYTES_PER_ENTRY + 2 * query.length + BYTES_PER_TOKEN * ((document as { tokenCount?: number }).tokenCount ?? MAX_TOKENS);

/**
 * Parsing and validating a document costs more than planning a cached one, so documents that
 * parse and validate are kept in an LRU (a Map in insertion order) bounded by the bytes they
 * retain, keyed by the sha256 of their text (the text is not kept twice). Failures are not cached:
 * a client sending distinct broken documents cannot grow it.
 */
export class DocumentCache {
  private readonly entries = new Map<string, { prepared: PreparedDocument; bytes: number }>();
  private totalBytes = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    /** 0 switches the cache off. */
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  prepare(query: string): Prepared {
    const queryHash = sha256Hex(query);
    const hit = this.entries.get(queryHash);
    if (hit) {
      this.entries.delete(queryHash);
      this.entries.set(queryHash, hit);
      return { ok: true, prepared: hit.prepared };
    }
    const compiled = this.compile(query, queryHash);
    if (compiled.ok) this.keep(query, compiled.prepared);
    return compiled;
  }

  private keep(query: string, prepared: PreparedDocument): void {
    const bytes = retainedBytes(query, prepared.document);
    // One document may take at most a quarter of the budget, so a few large ones cannot flush the rest.
    if (bytes * 4 > this.maxBytes) return;
    this.entries.set(prepared.queryHash, { prepared, bytes });
    this.totalBytes += bytes;
    for (const [key, entry] of this.entries) {
      if (this.totalBytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.totalBytes -= entry.bytes;
    }
  }

  private compile(query: string, queryHash: string): Prepared {
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: MAX_TOKENS });
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
    return { ok: true, prepared: { document, queryHash } };
  }
}
