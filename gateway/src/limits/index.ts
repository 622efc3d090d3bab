import type { Logger, Redis } from '@beedesk/runtime';
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import type { Registry, RegistryContentType } from 'prom-client';
import { refusal, type Refusal } from '../pipeline/refusal';
import type { Authentication } from '../caller';
import { usesIntrospection } from '../introspection';
import { costAnnotationsOf } from './cost-model';
import { createLimitMetrics } from './metrics';
import { CostAnalyzer } from './operation-cost';
import { RateLimiter } from './rate-limiter';
import type { GatewayLimitSettings } from './settings';
import { TenantSubscriptionLeases, UserSocketLeases } from './subscription-leases';

export { costAnnotationsOf, COST_WEIGHTS, type CostAnnotations, type ListSizeRule } from './cost-model';
export { CostAnalyzer, type OperationMeasure } from './operation-cost';
export type { Bucket, RateLimitSettings } from './rate-limiter';
export { DEFAULT_LIMIT_SETTINGS, limitSettingsFromEnv, type GatewayLimitSettings } from './settings';
export type { LeaseResult, ScopedLeaseResult, SubscriptionLease, TenantSubscriptionLeases, UserSocketLeases } from './subscription-leases';

export interface GatewayLimitsOptions {
  settings: GatewayLimitSettings;
  /** The API schema operations are validated against. */
  schema: GraphQLSchema;
  /** Its `@cost` / `@listSize` annotations feed the cost model. */
  supergraphSdl: string;
  redis: Redis;
  keyPrefix: string;
  logger: Logger;
  registry: Registry<RegistryContentType>;
}

/**
 * The gateway's limits, each refusing with its own code: introspection, depth and cost per
 * operation (no I/O, cached with the document), request rates per tenant, user and API key, open
 * subscriptions per tenant and user and open WebSockets per user (Redis, shared by every replica),
 * subscriptions per connection.
 */
export function createGatewayLimits(options: GatewayLimitsOptions) {
  const { settings } = options;
  const metrics = createLimitMetrics(options.registry);
  const analyzer = new CostAnalyzer({
    schema: options.schema,
    annotations: costAnnotationsOf(options.supergraphSdl),
    defaultListSize: settings.defaultListSize,
  });
  const rateLimiter = new RateLimiter({
    redis: options.redis,
    keyPrefix: options.keyPrefix,
    settings: settings.rate,
    logger: options.logger,
    metrics,
    storeTimeoutMs: settings.storeTimeoutMs,
  });
  const subscriptionLeases = new TenantSubscriptionLeases({
    redis: options.redis,
    keyPrefix: options.keyPrefix,
    maxPerTenant: settings.maxSubscriptionsPerTenant,
    maxPerUser: settings.maxSubscriptionsPerUser,
    logger: options.logger,
    metrics,
    storeTimeoutMs: settings.storeTimeoutMs,
  });
  const socketLeases = new UserSocketLeases({
    redis: options.redis,
    keyPrefix: options.keyPrefix,
    maxPerUser: settings.maxSocketsPerUser,
    logger: options.logger,
    metrics,
    storeTimeoutMs: settings.storeTimeoutMs,
  });
  const refuse = (
    status: number,
    code: string,
    message: string,
    extensions: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Refusal => {
    metrics.refused.inc({ code });
    return refusal(status, code, message, headers, extensions);
  };

  return {
    subscriptionLeases,
    socketLeases,
    maxSubscriptionsPerConnection: settings.maxSubscriptionsPerConnection,
    /** Counts a subscription refused by its cap (the service refuses; the metric lives here). */
    countRefusal: (code: string) => metrics.refused.inc({ code }),

    /** One request (HTTP) or subscribe (graphql-ws): takes a token from the caller's buckets. */
    async takeRequest(auth: Authentication): Promise<Refusal | null> {
      const decision = await rateLimiter.take(auth);
      if (decision.allowed) return null;
      const { retryAfterSeconds, scope, bucket } = decision;
      const who = scope === 'tenant' ? 'this tenant' : scope === 'user' ? 'this user' : 'this API key';
      return refuse(
        429,
        'RATE_LIMITED',
        `Too many requests for ${who}: retry in ${retryAfterSeconds} s.`,
        { retryAfterSeconds, scope, ratePerSecond: bucket.ratePerSecond, burst: bucket.burst },
        { 'retry-after': String(retryAfterSeconds) },
      );
    },

    /** A widget-key exchange: per key and per client IP (RATE_LIMITED, scope `widget-key` or `ip`). */
    async takeWidgetExchange(tenantId: string, ip: string, requestId: string): Promise<Refusal | null> {
      const decision = await rateLimiter.takeWidgetExchange(tenantId, ip, requestId);
      if (decision.allowed) return null;
      const { retryAfterSeconds, scope, bucket } = decision;
      return refuse(
        429,
        'RATE_LIMITED',
        `Too many visitor sessions ${scope === 'ip' ? 'from this address' : 'for this widget key'}: retry in ${retryAfterSeconds} s.`,
        { retryAfterSeconds, scope, ratePerSecond: bucket.ratePerSecond, burst: bucket.burst },
        { 'retry-after': String(retryAfterSeconds) },
      );
    },

    /** Introspection, depth and cost of the operation about to be planned. */
    checkOperation(
      document: DocumentNode,
      operation: OperationDefinitionNode,
      variables: Record<string, unknown> | undefined,
    ): Refusal | null {
      if (!settings.introspection && usesIntrospection(document, operation)) {
        return refuse(400, 'INTROSPECTION_DISABLED', 'Introspection is disabled on this gateway.', {});
      }
      if (settings.maxDepth <= 0 && settings.maxCost <= 0) return null;
      const { depth, cost } = analyzer.measure(document, operation, variables);
      if (settings.maxDepth > 0 && depth > settings.maxDepth) {
        return refuse(400, 'DEPTH_LIMIT_EXCEEDED', `The operation is ${depth} levels deep; at most ${settings.maxDepth} are allowed.`, {
          depth,
          maxDepth: settings.maxDepth,
        });
      }
      if (settings.maxCost > 0 && cost > settings.maxCost) {
        const reported = Number.isFinite(cost) ? cost : Number.MAX_SAFE_INTEGER;
        return refuse(
          400,
          'COST_LIMIT_EXCEEDED',
          `The operation's estimated cost is ${reported}; at most ${settings.maxCost} is allowed.`,
          { cost: reported, maxCost: settings.maxCost },
        );
      }
      return null;
    },

    close(): void {
      subscriptionLeases.close();
      socketLeases.close();
    },
  };
}
export type GatewayLimits = ReturnType<typeof createGatewayLimits>;
