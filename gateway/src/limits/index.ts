import type { Logger, Redis } from '@beedesk/runtime';
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import type { Registry, RegistryContentType } from 'prom-client';
import { refusal, type Refusal } from '../pipeline/refusal';
import type { Authentication } from '../caller';
import { usesIntrospection } from '../introspection';
import { costAnnotationsOf } from './cost-model';
import { EventLoopPressure } from './event-loop-pressure';
import { createLimitMetrics } from './metrics';
import { FairShareScheduler, type FairShareRefusalReason } from './fair-share';
import { CostAnalyzer } from './operation-cost';
import { RateLimiter } from './rate-limiter';
import type { GatewayLimitSettings } from './settings';
import { TenantSubscriptionLeases, UserSocketLeases } from './subscription-leases';

export { costAnnotationsOf, COST_WEIGHTS, type CostAnnotations, type ListSizeRule } from './cost-model';
export { CostAnalyzer, type OperationMeasure } from './operation-cost';
export type { Bucket, RateLimitSettings } from './rate-limiter';
export { EventLoopPressure, PressureState, type EventLoopPressureSettings } from './event-loop-pressure';
export { FairShareScheduler, fairShareEnabled, type FairShareSettings, type SlotGrant } from './fair-share';
export {
  DEFAULT_FAIR_SHARE_SETTINGS,
  DEFAULT_LIMIT_SETTINGS,
  FAIR_SHARE_OFF,
  limitSettingsFromEnv,
  type GatewayLimitSettings,
} from './settings';
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
  // Measured only where it tightens a bound (not in generic mode, not with the bound under pressure off).
  const pressure = new EventLoopPressure(
    settings.fairShare.maxConcurrentPerTenantUnderPressure > 0 ? settings.pressure : { ...settings.pressure, thresholdMs: 0 },
  );
  const fairShare = new FairShareScheduler(settings.fairShare, undefined, () => pressure.underPressure());
  metrics.observeFairShare(fairShare);
  metrics.observePressure(pressure);
  const lastQueueWarning = new Map<string, number>();
  /** One warning per tenant per 10 s: a burst refused by the thousand must not flood the log. */
  const warnQueueRefusal = (tenantId: string, reason: FairShareRefusalReason, queued: number) => {
    const now = Date.now();
    if ((lastQueueWarning.get(tenantId) ?? 0) > now - 10_000) return;
    if (lastQueueWarning.size > 10_000) lastQueueWarning.clear();
    lastQueueWarning.set(tenantId, now);
    options.logger.warn(
      { tenant: tenantId, reason, queued, executing: fairShare.executing(tenantId) },
      'operations of a tenant refused by its fair share (more may follow in the next 10 s)',
    );
  };
  const retryAfterSeconds = Math.max(1, Math.ceil(settings.fairShare.maxWaitMs / 1000));
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

  const queueFullRefusal = (queued: number): Refusal =>
    refuse(
      429,
      'RATE_LIMITED',
      `Too many operations of this tenant are waiting (${queued}): retry in ${retryAfterSeconds} s.`,
      { reason: 'TENANT_QUEUE_FULL', retryAfterSeconds, scope: 'tenant', limit: settings.fairShare.maxQueuedPerTenant },
      { 'retry-after': String(retryAfterSeconds) },
    );

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

    /**
     * The fair share's refusal of a tenant whose queue is already full, checked before the request's
     * body is read: the same answer the slot would get later, without reading, parsing and validating
     * what would be refused anyway (a burst's excess costs the gateway as little as it can).
     */
    checkQueue(auth: Authentication): Refusal | null {
      const { tenantId } = auth.caller;
      if (!fairShare.queueFull(tenantId)) return null;
      const queued = fairShare.queued(tenantId);
      warnQueueRefusal(tenantId, 'TENANT_QUEUE_FULL', queued);
      return queueFullRefusal(queued);
    },

    /**
     * A slot to execute one operation of the caller's tenant (fair-share.ts): at once, after waiting its
     * turn, or refused (the tenant's queue is full: RATE_LIMITED 429; it waited too long, or the gateway
     * is shutting down: SERVICE_UNAVAILABLE 503). The answer's release must be called once it has executed.
     */
    async takeSlot(auth: Authentication, signal?: AbortSignal): Promise<Refusal | (() => void)> {
      const { tenantId } = auth.caller;
      const grant = await fairShare.acquire(tenantId, signal);
      if (grant.ok) {
        metrics.fairShareWait.observe(grant.waitedMs / 1000);
        return grant.release;
      }
      const { reason, queued } = grant;
      if (reason !== 'CLIENT_GONE') warnQueueRefusal(tenantId, reason, queued);
      const headers = { 'retry-after': String(retryAfterSeconds) };
      const extensions = { reason, retryAfterSeconds };
      switch (reason) {
        case 'TENANT_QUEUE_FULL':
          return queueFullRefusal(queued);
        case 'TENANT_QUEUE_TIMEOUT':
          return refuse(
            503,
            'SERVICE_UNAVAILABLE',
            `The gateway is busy: this tenant's operation waited ${Math.round(grant.waitedMs)} ms for its turn; retry in ${retryAfterSeconds} s.`,
            extensions,
            headers,
          );
        case 'CLIENT_GONE':
          return refusal(499, 'CLIENT_CLOSED_REQUEST', 'The client went away while the operation waited for its turn.', undefined, {
            reason,
          });
        case 'SHUTTING_DOWN':
          return refuse(503, 'SERVICE_UNAVAILABLE', 'The gateway is shutting down.', extensions, headers);
      }
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
      fairShare.close();
      pressure.close();
      subscriptionLeases.close();
      socketLeases.close();
    },
  };
}
export type GatewayLimits = ReturnType<typeof createGatewayLimits>;
