import type { ServiceMap } from '@apollo/gateway';
import { newId, requestLogger, signContext, type Logger, type TenantContext } from '@beedesk/runtime';
import { getVariableValues, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Agent } from 'undici';
import { SubgraphDataSource } from '../subgraph-data-source';
import { shuttingDown } from './errors';
import { createEventExecutor } from './event-executor';
import { SubscriptionPlanner } from './planner';
import { startFederatedSubscription, type FederatedSubscription } from './subscribe';
import { UpstreamConnection } from './upstream';

export interface SubscriptionServiceOptions {
  supergraphSdl: string;
  /** The gateway's API schema: documents are validated against it before they get here. */
  schema: GraphQLSchema;
  subgraphs: { name: string; url: string }[];
  agent: Agent;
  subgraphTimeoutMs: number;
  internalSecret: string;
  logger: Logger;
  registry: Registry;
  /** Events waiting per client subscription before the client is dropped as too slow. */
  maxBuffered: number;
}

/** A validated subscription document, ready to start. */
export interface SubscriptionDocument {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** Identifies document + operation for the plan cache. */
  planKey: string;
  rawVariables: Record<string, unknown> | undefined;
}

/** The caller of a client connection and what its subscriptions share upstream. */
export interface SubscriberConnection {
  caller: TenantContext;
  upstream: UpstreamConnection;
  signedContext: () => string;
}

/**
 * The protocol-independent core: plans, starts, counts and ends federated subscriptions.
 * graphql-ws and SSE both go through it.
 */
export function createSubscriptionService(options: SubscriptionServiceOptions) {
  const planner = new SubscriptionPlanner(options.supergraphSdl);
  const urls = new Map(options.subgraphs.map((s) => [s.name, s.url]));
  const serviceMap: ServiceMap = Object.create(null) as ServiceMap;
  for (const [name, url] of urls) serviceMap[name] = new SubgraphDataSource(name, url, options.agent, options.subgraphTimeoutMs);
  const executeEvent = createEventExecutor({
    serviceMap,
    apiSchema: planner.apiSchema,
    supergraphSchema: planner.supergraphSchema,
    schema: options.schema,
    logger: options.logger,
  });
  const open = new Set<FederatedSubscription>();
  const connections = new Set<UpstreamConnection>();
  let draining = false;

  new Gauge({
    name: 'beedesk_gateway_open_subscriptions',
    help: 'Client subscriptions currently open at the gateway (graphql-ws and SSE)',
    registers: [options.registry],
    collect() {
      this.set(open.size);
    },
  });
  const delivered = new Counter({
    name: 'beedesk_gateway_subscription_events_total',
    help: 'Subscription results delivered to clients',
    registers: [options.registry],
  });

  return {
    get openSubscriptions(): number {
      return open.size;
    },
    get draining(): boolean {
      return draining;
    },

    /** A client connection (one WebSocket, or one SSE request) of one caller. */
    connect(caller: TenantContext): SubscriberConnection {
      // Signatures live 300 s; subscriptions live longer, so re-sign once a minute.
      let signed = '';
      let signedAt = 0;
      const signedContext = () => {
        const now = Date.now();
        if (now - signedAt > 60_000) {
          signed = signContext(caller, options.internalSecret);
          signedAt = now;
        }
        return signed;
      };
      const upstream = new UpstreamConnection((name) => urls.get(name), signedContext);
      connections.add(upstream);
      return { caller, upstream, signedContext };
    },

    async disconnect(connection: SubscriberConnection): Promise<void> {
      connections.delete(connection.upstream);
      await connection.upstream.dispose();
    },

    /**
     * Starts a subscription, or answers a single result as graphql-js's subscribe() would
     * (variable coercion errors).
     */
    subscribe(
      connection: SubscriberConnection,
      input: SubscriptionDocument,
      onOverflow: () => void,
    ): FederatedSubscription | ExecutionResult {
      if (draining) return { errors: [shuttingDown()] };
      const coerced = getVariableValues(options.schema, input.operation.variableDefinitions ?? [], input.rawVariables ?? {});
      // As Apollo Server: variables that do not fit their definitions are the caller's input error.
      if (coerced.errors) return { errors: coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } })) };
      let plan;
      try {
        plan = planner.plan(input.planKey, input.document, input.operation.name?.value);
      } catch (error) {
        if (error instanceof GraphQLError) return { errors: [error] };
        throw error;
      }
      const requestId = newId();
      const subscription = startFederatedSubscription(
        { plan, document: input.document, operation: input.operation, variables: coerced.coerced, requestId },
        {
          upstream: connection.upstream,
          executeEvent,
          signedContext: connection.signedContext,
          maxBuffered: options.maxBuffered,
          onOverflow,
          // Every line about this subscription names its tenant and its own request id.
          logger: requestLogger(options.logger, connection.caller.tenantId, requestId),
        },
      );
      open.add(subscription);
      // Count deliveries and forget the subscription once it has ended, however it ends.
      const next = subscription.next.bind(subscription);
      subscription.next = async () => {
        const result = await next().catch((error: unknown) => {
          open.delete(subscription);
          throw error;
        });
        if (result.done) open.delete(subscription);
        else delivered.inc();
        return result;
      };
      const ret = subscription.return.bind(subscription);
      subscription.return = () => {
        open.delete(subscription);
        return ret();
      };
      return subscription;
    },

    /** Shutdown: every open subscription completes (after what it already received); upstreams close. */
    async close(): Promise<void> {
      draining = true;
      for (const subscription of open) subscription.end();
      const deadline = Date.now() + 2000;
      while (open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await Promise.all([...connections].map((c) => c.dispose()));
      connections.clear();
    },
  };
}
export type SubscriptionService = ReturnType<typeof createSubscriptionService>;
