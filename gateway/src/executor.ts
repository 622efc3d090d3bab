import { buildOperationContext, executeQueryPlan, type ServiceMap } from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import type { GatewayExecutor, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { failSpan, tracer, type Logger } from '@beedesk/runtime';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import type { Agent } from 'undici';
import {
  SubgraphDataSource,
  type GatewayRequestContext,
  type InflightDeduplication,
  type SubgraphHttpErrors,
} from './subgraph-data-source';
import { GATEWAY_TRACER } from './pipeline/useTracing';
import { NO_TELEMETRY, type GatewayTelemetry } from './telemetry';

/** Results that are request errors (variables that do not coerce): HTTP 400, as Apollo Server answers. */
export const requestErrorResults = new WeakSet<object>();

/** The supergraph as built once at start: the subscription planner plans and executes over the same one. */
export interface PlannedSupergraph {
  apiSchema: Schema;
  supergraphSchema: GraphQLSchema;
  planner: QueryPlanner;
}

export interface FederatedExecutor {
  schema: GraphQLSchema;
  supergraph: PlannedSupergraph;
  execute: GatewayExecutor;
  subgraphs: { name: string; url: string }[];
  stop(): Promise<void>;
}

/** What one operation of one document needs on every request, computed once. */
type OperationContext = ReturnType<typeof buildOperationContext>;

interface CachedOperation {
  operationContext: OperationContext;
  queryPlan: QueryPlan;
}

/**
 * Query planning and plan execution with @apollo/gateway's own parts (the same ones
 * `ApolloGateway.executor` uses): `Supergraph.build`, its `QueryPlanner`, `executeQueryPlan` and
 * its result shaping. What ApolloGateway does again on every request, we do once per document and
 * operation name: the operation context (fragments by name) and the query plan. Both are kept
 * with the parsed document (a WeakMap on the DocumentNode that our DocumentCache hands out again
 * for the same query text), so they are dropped when the document leaves that cache. Variables
 * are still coerced on every request, with the same messages ApolloGateway gives.
 *
 * Subgraph URLs come from the supergraph's join__graph directives unless `urlOverride` gives one.
 */
export async function createFederatedExecutor(options: {
  supergraphSdl: string;
  agent: Agent;
  timeoutMs: number;
  logger: Logger;
  urlOverride: (name: string) => string | undefined;
  dedup?: InflightDeduplication;
  /** See SubgraphDataSource: `apollo` in generic mode. */
  subgraphHttpErrors?: SubgraphHttpErrors;
  /** As ApolloGateway: validate the supergraph unless NODE_ENV=production. */
  validateSupergraph?: boolean;
  /** Planning time and subgraph fetches in the metrics. */
  telemetry?: GatewayTelemetry;
}): Promise<FederatedExecutor> {
  const telemetry = options.telemetry ?? NO_TELEMETRY;
  const supergraph = Supergraph.build(options.supergraphSdl, {
    validateSupergraph: options.validateSupergraph ?? process.env.NODE_ENV !== 'production',
  });
  const apiSchema: Schema = supergraph.apiSchema();
  const schema = apiSchema.toGraphQLJSSchema();
  const supergraphSchema = supergraph.schema.toGraphQLJSSchema();
  const planner = new QueryPlanner(supergraph);
  const planOptions = {
    recursiveSelectionsLimitDisabled: process.env.APOLLO_DISABLE_SECURITY_RECURSIVE_SELECTIONS_CHECK === 'true',
    nonLocalSelectionsLimitDisabled: process.env.APOLLO_DISABLE_SECURITY_NON_LOCAL_SELECTIONS_CHECK === 'true',
  };

  const subgraphs: { name: string; url: string }[] = [];
  const serviceMap: ServiceMap = Object.create(null) as ServiceMap;
  for (const { name, url } of supergraph.subgraphsMetadata()) {
    const resolved = options.urlOverride(name) ?? url;
    if (!resolved) throw new Error(`subgraph ${name} has no URL in the supergraph and no override`);
    subgraphs.push({ name, url: resolved });
    serviceMap[name] = new SubgraphDataSource(
      name,
      resolved,
      options.agent,
      options.timeoutMs,
      options.dedup,
      options.subgraphHttpErrors,
      telemetry,
    );
  }

  const cache = new WeakMap<DocumentNode, Map<string, CachedOperation>>();
  function prepare(document: DocumentNode, operationName: string | null | undefined): CachedOperation {
    let byName = cache.get(document);
    if (!byName) cache.set(document, (byName = new Map()));
    const key = operationName ?? '';
    let hit = byName.get(key);
    if (!hit) {
      // Planning happens once per document and operation: the span and the phase metric show the misses.
      const span = tracer(GATEWAY_TRACER).startSpan('plan');
      const started = performance.now();
      try {
        const operationContext = buildOperationContext({ schema, operationDocument: document, operationName: operationName ?? undefined });
        const operation = operationFromDocument(apiSchema, document, { operationName: operationName ?? undefined });
        hit = { operationContext, queryPlan: planner.buildQueryPlan(operation, planOptions) };
      } catch (error) {
        failSpan(span, error, 'plan');
        throw error;
      } finally {
        span.end();
        telemetry.phase('plan', (performance.now() - started) / 1000);
      }
      byName.set(key, hit);
    }
    return hit;
  }

  const execute = async (requestContext: GatewayGraphQLRequestContext) => {
    const { request, document } = requestContext;
    let prepared: CachedOperation;
    try {
      prepared = prepare(document, request.operationName);
    } catch (error) {
      if (error instanceof GraphQLError) return { errors: [error] };
      throw error;
    }
    const { operationContext, queryPlan } = prepared;
    const definitions = operationContext.operation.variableDefinitions;
    if (definitions && definitions.length > 0) {
      const coerced = getVariableValues(schema, definitions, request.variables ?? {});
      if (coerced.errors) {
        const result = { errors: coerced.errors };
        requestErrorResults.add(result);
        return result;
      }
    }
    return executeQueryPlan(
      queryPlan,
      serviceMap,
      requestContext as GatewayGraphQLRequestContext<GatewayRequestContext>,
      operationContext,
      supergraphSchema,
      apiSchema,
    );
  };

  options.logger.debug({ subgraphs }, 'supergraph loaded');
  return { schema, supergraph: { apiSchema, supergraphSchema, planner }, execute, subgraphs, stop: async () => undefined };
}
