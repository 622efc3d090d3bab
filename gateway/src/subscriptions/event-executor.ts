import { executeQueryPlan, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import type { Schema } from '@apollo/federation-internals';
import type { FetchNode, PlanNode, QueryPlan } from '@apollo/query-planner';
import type { GatewayGraphQLRequestContext, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Logger } from '@beedesk/runtime';
import type { DocumentNode, ExecutionResult, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { isSilentlyNulled, withCodes } from '../result-errors';
import { toGraphQLError } from './errors';
import type { GatewayRequestContext } from '../subgraph-data-source';
import type { SubscriptionPlan } from './planner';

type OperationContext = Parameters<typeof executeQueryPlan>[3];

export interface EventExecutorOptions {
  serviceMap: ServiceMap;
  apiSchema: Schema;
  supergraphSchema: GraphQLSchema;
  /** The gateway's API schema (graphql-js), for __typename and introspection handling. */
  schema: GraphQLSchema;
  logger: Logger;
}

export interface EventInput {
  plan: SubscriptionPlan;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables: Record<string, unknown>;
  context: GatewayRequestContext;
  /** The subscription's logger (tagged with its tenant and request id). */
  logger?: Logger;
}

/**
 * Turns one upstream event into the client's result with @apollo/gateway's own executeQueryPlan:
 * the plan is `Sequence [primary, rest]` where the primary fetch is answered with the event
 * already received (a replaying data source) and `rest` runs as in any query (entity fetches,
 * batched per subgraph). Result shaping (aliases, __typename, fragments, nullability, error
 * paths) is therefore exactly that of a query.
 */
export function createEventExecutor(options: EventExecutorOptions) {
  // Per operation, not per document: one cached document may hold several operations.
  const operationContexts = new WeakMap<OperationDefinitionNode, OperationContext>();

  function operationContextOf(input: EventInput): OperationContext {
    let context = operationContexts.get(input.operation);
    if (!context) {
      const fragments = Object.fromEntries(
        input.document.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d]] : [])),
      );
      context = { schema: options.schema, operation: input.operation, fragments };
      operationContexts.set(input.operation, context);
    }
    return context;
  }

  /** Answers the primary fetch with the event; any other fetch to that subgraph goes out as usual. */
  function replaying(primary: FetchNode, event: ExecutionResult): ServiceMap {
    const real = options.serviceMap[primary.serviceName];
    const source: GraphQLDataSource = {
      process: async (request) =>
        request.request.query === primary.operation
          ? (event as GatewayGraphQLResponse)
          : real!.process(request as Parameters<GraphQLDataSource['process']>[0]),
    };
    return { ...options.serviceMap, [primary.serviceName]: source };
  }

  /**
   * The client's result for one event, or null when the event has nothing left to show: an object it
   * references is gone or hidden from the caller (a session erased while its SESSION_STARTED was on the
   * way), so the whole result nulled out without an error. Such an event is skipped; the stream goes on.
   */
  return async function executeEvent(input: EventInput, event: ExecutionResult): Promise<ExecutionResult | null> {
    // No data at all: the stream failed before producing any (e.g. NOT_FOUND); pass the errors on as graphql-js would.
    if ((event.data === undefined || event.data === null) && event.errors?.length) {
      return { errors: event.errors.map(toGraphQLError) };
    }
    const { plan } = input;
    const node: PlanNode = plan.rest ? { kind: 'Sequence', nodes: [plan.primary, plan.rest] } : plan.primary;
    const queryPlan: QueryPlan = { kind: 'QueryPlan', node };
    const requestContext = {
      request: { variables: input.variables },
      context: input.context,
      logger: input.logger ?? options.logger,
      metrics: {},
      operation: input.operation,
    } as unknown as GatewayGraphQLRequestContext;
    const result = await executeQueryPlan(
      queryPlan,
      replaying(plan.primary, event),
      requestContext,
      operationContextOf(input),
      options.supergraphSchema,
      options.apiSchema,
    );
    if (isSilentlyNulled(result)) {
      (input.logger ?? options.logger).info('subscription event skipped: an object it references is gone or not visible');
      return null;
    }
    return result.errors?.length
      ? { ...result, errors: withCodes(result.errors, 'data' in result, input.logger ?? options.logger) }
      : (result as ExecutionResult);
  };
}
export type EventExecutor = ReturnType<typeof createEventExecutor>;
