import type { ServiceMap } from '@apollo/gateway';
import {
  activeContext,
  failSpan,
  newId,
  requestLogger,
  spanContextOf,
  tracingEnabled,
  withActiveSpan,
  type Caller,
  type Logger,
} from '@beedesk/runtime';
import {
  getVariableValues,
  GraphQLError,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { Counter, Gauge, type Registry, type RegistryContentType } from 'prom-client';
import type { Agent } from 'undici';
import type { TenantSubscriptionLeases } from '../limits';
import type { PlannedSupergraph } from '../executor';
import { operationAttributes, startOperationSpan } from '../pipeline/useTracing';
import { SubgraphDataSource } from '../subgraph-data-source';
import { NO_TELEMETRY, type GatewayTelemetry } from '../telemetry';
import { codedGraphQLError, shuttingDown } from './errors';
import { createEventExecutor } from './event-executor';
import { SubscriptionPlanner } from './planner';
import { startFederatedSubscription, type FederatedSubscription } from './subscribe';
import { UpstreamConnection } from './upstream';

export interface SubscriptionServiceOptions {
  /** The executor's supergraph and planner (not built a second time). */
  supergraph: PlannedSupergraph;
  /** The gateway's API schema: documents are validated against it before they get here. */
  schema: GraphQLSchema;
  subgraphs: { name: string; url: string }[];
  agent: Agent;
  subgraphTimeoutMs: number;
  logger: Logger;
  registry: Registry<RegistryContentType>;
  /** Events waiting per client subscription before the client is dropped as too slow. */
  maxBuffered: number;
  /** Concurrent subscriptions on one client connection (a graphql-ws socket); 0 or absent: no limit. */
  maxSubscriptionsPerConnection?: number;
  /** Open subscriptions per tenant and per user over every gateway replica; absent: no limit. */
  tenantLeases?: TenantSubscriptionLeases;
  /** Told the code of every subscription a cap refused (metrics). */
  onRefused?: (code: string) => void;
  /** Subscription starts, events and entity fetches in the metrics. */
  telemetry?: GatewayTelemetry;
}

/** A validated subscription document, ready to start. */
export interface SubscriptionDocument {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** Identifies document + operation for the plan cache. */
  planKey: string;
  rawVariables: Record<string, unknown> | undefined;
  /** The persisted document's id when the client named one (a span attribute). */
  documentId?: string;
}

/** The caller of a client connection and what its subscriptions share upstream. */
export interface SubscriberConnection {
  caller: Caller;
  upstream: UpstreamConnection;
  signedContext: () => string;
  /** Subscriptions of this connection being started or open. */
  subscriptions: number;
  /** Disconnected: nothing may start on it any more. */
  closed: boolean;
}

/**
 * Calls `onEnd` once when the subscription ends, however it ends: it completes, fails, or its
 * consumer stops (return/throw). `onValue` runs for every result delivered.
 */
function onEnd(subscription: FederatedSubscription, onEnd: () => void, onValue: () => void): void {
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  const next = subscription.next.bind(subscription);
  subscription.next = async () => {
    const result = await next().catch((error: unknown) => {
      end();
      throw error;
    });
    if (result.done) end();
    else onValue();
    return result;
  };
  const ret = subscription.return.bind(subscription);
  subscription.return = () => {
    end();
    return ret();
  };
}

const subscriptionLimit = (message: string, extensions: Record<string, unknown>): ExecutionResult => ({
  errors: [new GraphQLError(message, { extensions: { code: 'SUBSCRIPTION_LIMIT_REACHED', ...extensions } })],
});

/**
 * The protocol-independent core: plans, starts, counts and ends federated subscriptions.
 * graphql-ws and SSE both go through it.
 */
export function createSubscriptionService(options: SubscriptionServiceOptions) {
  const planner = new SubscriptionPlanner(options.supergraph);
  const urls = new Map(options.subgraphs.map((s) => [s.name, s.url]));
  const serviceMap: ServiceMap = Object.create(null) as ServiceMap;
  const telemetry = options.telemetry ?? NO_TELEMETRY;
  for (const [name, url] of urls) {
    serviceMap[name] = new SubgraphDataSource(name, url, options.agent, options.subgraphTimeoutMs, undefined, 'graphql', telemetry);
  }
  const executeEvent = createEventExecutor({
    serviceMap,
    apiSchema: options.supergraph.apiSchema,
    supergraphSchema: options.supergraph.supergraphSchema,
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

    /**
     * A client connection (one WebSocket, or one SSE request) of one caller, admitted by the
     * admission pipeline (`signedContext` is re-signed there as it ages: subscriptions outlive it).
     */
    connect({ caller, signedContext }: { caller: Caller; signedContext: () => string }): SubscriberConnection {
      const upstream = new UpstreamConnection((name) => urls.get(name), signedContext);
      connections.add(upstream);
      return { caller, upstream, signedContext, subscriptions: 0, closed: false };
    },

    async disconnect(connection: SubscriberConnection): Promise<void> {
      connection.closed = true;
      connections.delete(connection.upstream);
      await connection.upstream.dispose();
    },

    /**
     * Starts a subscription, or answers a single result as graphql-js's subscribe() would
     * (variable coercion errors, SUBSCRIPTION_LIMIT_REACHED).
     */
    async subscribe(
      connection: SubscriberConnection,
      input: SubscriptionDocument,
      onOverflow: () => void,
    ): Promise<FederatedSubscription | ExecutionResult> {
      const started = performance.now();
      if (!tracingEnabled()) {
        const result = await this.start(connection, input, onOverflow);
        telemetry.request(
          'subscription',
          'errors' in result ? 'error' : 'ok',
          (performance.now() - started) / 1000,
          connection.caller.tenantId,
        );
        return result;
      }
      // The operation span covers starting the subscription; each event gets its own span, linked to it.
      const span = startOperationSpan(input.operation, operationAttributes(input.operation, connection.caller.tenantId, input.documentId));
      try {
        const result = await withActiveSpan(span, () => this.start(connection, input, onOverflow));
        if ('errors' in result && result.errors?.length) span.setAttribute('graphql.error.count', result.errors.length);
        telemetry.request(
          'subscription',
          'errors' in result ? 'error' : 'ok',
          (performance.now() - started) / 1000,
          connection.caller.tenantId,
        );
        return result;
      } catch (error) {
        failSpan(span, error, 'subscription', { 'beedesk.tenant.id': connection.caller.tenantId });
        throw error;
      } finally {
        span.end();
      }
    },

    /** subscribe() without its span. */
    async start(
      connection: SubscriberConnection,
      input: SubscriptionDocument,
      onOverflow: () => void,
    ): Promise<FederatedSubscription | ExecutionResult> {
      if (draining) return { errors: [shuttingDown()] };
      const coerced = getVariableValues(options.schema, input.operation.variableDefinitions ?? [], input.rawVariables ?? {});
      // As Apollo Server: variables that do not fit their definitions are the caller's input error.
      if (coerced.errors)
        return {
          errors: coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } })),
        };
      let plan;
      try {
        plan = planner.plan(input.planKey, input.document, input.operation.name?.value);
      } catch (error) {
        if (error instanceof GraphQLError) return { errors: [error] };
        throw error;
      }
      const perConnection = options.maxSubscriptionsPerConnection ?? 0;
      if (perConnection > 0 && connection.subscriptions >= perConnection) {
        options.onRefused?.('SUBSCRIPTION_LIMIT_REACHED');
        return subscriptionLimit(`This connection has ${perConnection} subscriptions open, the most allowed; complete one first.`, {
          scope: 'connection',
          limit: perConnection,
        });
      }
      // Counted before the tenant's lease is awaited, so concurrent subscribes cannot overshoot.
      connection.subscriptions++;
      // Per tenant and per user: one user's subscriptions cannot take every place of the tenant's.
      const leased = options.tenantLeases ? await options.tenantLeases.acquire(connection.caller.tenantId, connection.caller.userId) : null;
      if (leased && !leased.ok) {
        connection.subscriptions--;
        options.onRefused?.('SUBSCRIPTION_LIMIT_REACHED');
        const who = leased.scope === 'user' ? 'You have' : 'This tenant has';
        return subscriptionLimit(`${who} ${leased.limit} subscriptions open, the most allowed; complete one first.`, {
          scope: leased.scope,
          limit: leased.limit,
        });
      }
      const release = () => {
        connection.subscriptions--;
        leased?.lease.release();
      };
      // The client left, or the gateway began draining, while the lease was being taken.
      if (connection.closed || draining) {
        release();
        return { errors: [connection.closed ? codedGraphQLError('SERVICE_UNAVAILABLE', 'The connection has closed.') : shuttingDown()] };
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
          telemetry,
          trace: {
            subscription: spanContextOf(activeContext()),
            attributes: operationAttributes(input.operation, connection.caller.tenantId, input.documentId),
          },
        },
      );
      open.add(subscription);
      onEnd(
        subscription,
        () => {
          open.delete(subscription);
          release();
        },
        () => delivered.inc(),
      );
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
