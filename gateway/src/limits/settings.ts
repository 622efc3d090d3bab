import { introspectionEnabled } from '../introspection';
import type { EventLoopPressureSettings } from './event-loop-pressure';
import type { FairShareSettings } from './fair-share';
import type { Bucket, RateLimitSettings } from './rate-limiter';

/** Every limit the gateway enforces (gateway/README.md, "Limits"); 0 switches a limit off. */
export interface GatewayLimitSettings {
  maxDepth: number;
  maxCost: number;
  /** Items assumed for a list field without `@listSize` in the cost model. */
  defaultListSize: number;
  rate: RateLimitSettings;
  /** Concurrent subscriptions on one graphql-ws connection. */
  maxSubscriptionsPerConnection: number;
  /** Concurrent subscriptions of one tenant over all gateway replicas. */
  maxSubscriptionsPerTenant: number;
  /** Concurrent subscriptions of one user (or API key) of a tenant over all gateway replicas (graphql-ws and SSE). */
  maxSubscriptionsPerUser: number;
  /** Open graphql-ws sockets of one user (or API key) of a tenant over all gateway replicas, idle ones included. */
  maxSocketsPerUser: number;
  /** Serve `__schema` / `__type`. */
  introspection: boolean;
  /** Redis calls of the limits (rate, leases) past this count as a store failure: fail open. */
  storeTimeoutMs: number;
  /** Execution slots per gateway process and per tenant, and the per-tenant queues in front of them. */
  fairShare: FairShareSettings;
  /** When the machine counts as short of CPU (the fair share's `maxConcurrentPerTenantUnderPressure`). */
  pressure: EventLoopPressureSettings;
}

/**
 * Generous for a tenant alone (it rarely has 16 operations executing at once on one gateway process;
 * those past it wait, they are not refused). While other tenants are active each tenant gets 2: an ask
 * executes in ~20 ms, so 2 in flight already carry ~100 asks/s per process, and more in flight only
 * lengthen the queues in the subgraphs that every tenant waits in (bench:fairness, 2 cores: other
 * tenants' first token p95 during a 300 asks/s burst fell from 0.5-1.2 s with 16 to 0.1-0.2 s with 2,
 * while the bursting tenant got as many asks through).
 */
export const DEFAULT_FAIR_SHARE_SETTINGS: FairShareSettings = {
  maxConcurrent: 64,
  maxConcurrentPerTenant: 16,
  maxConcurrentPerTenantContended: 2,
  contentionWindowMs: 1000,
  maxConcurrentPerTenantUnderPressure: 1,
  // An ask executes in ~20 ms here, 100 ms at worst under load: one still executing after a second is waiting
  // on a dependency (a broker failover stalls sends up to 5 s), not using a core.
  stalledAfterMs: 1000,
  maxQueuedPerTenant: 500,
  maxWaitMs: 5000,
  weights: new Map(),
  defaultWeight: 1,
};

/** Measured with bench:fairness on a 2-core machine (event-loop-pressure.ts): quiet windows stay under 1 ms of mean lateness. */
export const DEFAULT_PRESSURE_SETTINGS: EventLoopPressureSettings = { thresholdMs: 1, sampleMs: 250, holdMs: 2000 };

/** No front-door scheduling: every admitted operation executes at once. */
export const FAIR_SHARE_OFF: FairShareSettings = {
  ...DEFAULT_FAIR_SHARE_SETTINGS,
  maxConcurrent: 0,
  maxConcurrentPerTenant: 0,
  maxConcurrentPerTenantContended: 0,
  maxConcurrentPerTenantUnderPressure: 0,
};

/** What beedesk's gateway enforces when nothing is configured (the authenticated, jwt mode). */
export const DEFAULT_LIMIT_SETTINGS: GatewayLimitSettings = {
  maxDepth: 12,
  maxCost: 5000,
  defaultListSize: 10,
  rate: {
    tenant: { ratePerSecond: 500, burst: 1000 },
    apiKey: { ratePerSecond: 50, burst: 100 },
    // A tenth of the tenant's: one user cannot use up what the tenant's other users need.
    user: { ratePerSecond: 50, burst: 100 },
    tenantOverrides: new Map(),
    // Widget-key exchanges (a page load each, a refresh every ~13 minutes of chatting): per key, and
    // per client IP under the key, so one address cannot mint visitor tokens in bulk.
    widgetKey: { ratePerSecond: 20, burst: 200 },
    widgetIp: { ratePerSecond: 0.2, burst: 20 },
  },
  maxSubscriptionsPerConnection: 100,
  maxSubscriptionsPerTenant: 10_000,
  maxSubscriptionsPerUser: 200,
  maxSocketsPerUser: 50,
  introspection: false,
  storeTimeoutMs: 250,
  fairShare: DEFAULT_FAIR_SHARE_SETTINGS,
  pressure: DEFAULT_PRESSURE_SETTINGS,
};

/** `<per second>:<burst>` (e.g. `500:1000`), or `0` for no limit. */
export const BUCKET_PATTERN = /^(0|\d+(\.\d+)?:\d+)$/;
/** `tenant=<per second>:<burst>,…` */
export const BUCKET_OVERRIDES_PATTERN = /^([^=,\s]+=(0|\d+(\.\d+)?:\d+))(,[^=,\s]+=(0|\d+(\.\d+)?:\d+))*$/;

export function parseBucket(value: string): Bucket | null {
  if (!BUCKET_PATTERN.test(value)) throw new Error(`"${value}" is not <per second>:<burst> or 0`);
  if (value === '0') return null;
  const [rate, burst] = value.split(':').map(Number) as [number, number];
  if (rate <= 0 || burst < 1) return null;
  return { ratePerSecond: rate, burst };
}

export function parseBucketOverrides(value: string | undefined): Map<string, Bucket> {
  const overrides = new Map<string, Bucket>();
  if (!value) return overrides;
  if (!BUCKET_OVERRIDES_PATTERN.test(value)) throw new Error(`"${value}" is not tenant=<per second>:<burst>,…`);
  for (const entry of value.split(',')) {
    const [tenant, bucket] = entry.split('=') as [string, string];
    // An override of 0 exempts the tenant: a bucket nothing can empty.
    overrides.set(tenant, parseBucket(bucket) ?? { ratePerSecond: 0, burst: 0 });
  }
  return overrides;
}

/** `tenant=<weight>,…` (e.g. `acme=4,free-tier=0.5`). */
export const WEIGHTS_PATTERN = /^[^=,\s]+=\d+(\.\d+)?(,[^=,\s]+=\d+(\.\d+)?)*$/;

export function parseWeights(value: string | undefined): Map<string, number> {
  const weights = new Map<string, number>();
  if (!value) return weights;
  if (!WEIGHTS_PATTERN.test(value)) throw new Error(`"${value}" is not tenant=<weight>,…`);
  for (const entry of value.split(',')) {
    const [tenant, weight] = entry.split('=') as [string, string];
    if (!(Number(weight) > 0)) throw new Error(`the weight of ${tenant} must be above 0`);
    weights.set(tenant, Number(weight));
  }
  return weights;
}

/** The limit variables of the gateway's environment, as config.ts has checked them. */
export interface LimitEnvironment {
  NODE_ENV: string;
  GATEWAY_AUTH: 'jwt' | 'none';
  GATEWAY_MAX_DEPTH?: number;
  GATEWAY_MAX_COST?: number;
  GATEWAY_DEFAULT_LIST_SIZE: number;
  GATEWAY_RATE_LIMIT_TENANT?: string;
  GATEWAY_RATE_LIMIT_API_KEY?: string;
  GATEWAY_RATE_LIMIT_USER?: string;
  GATEWAY_RATE_LIMIT_WIDGET_KEY?: string;
  GATEWAY_RATE_LIMIT_WIDGET_IP?: string;
  GATEWAY_RATE_LIMIT_TENANT_OVERRIDES?: string;
  GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION: number;
  GATEWAY_MAX_SUBSCRIPTIONS_PER_TENANT?: number;
  GATEWAY_MAX_SUBSCRIPTIONS_PER_USER?: number;
  GATEWAY_MAX_SOCKETS_PER_USER?: number;
  GATEWAY_INTROSPECTION?: 'true' | 'false';
  GATEWAY_MAX_CONCURRENT_OPERATIONS?: number;
  GATEWAY_MAX_CONCURRENT_PER_TENANT?: number;
  GATEWAY_MAX_CONCURRENT_PER_TENANT_CONTENDED?: number;
  GATEWAY_MAX_CONCURRENT_PER_TENANT_UNDER_PRESSURE?: number;
  GATEWAY_PRESSURE_EVENT_LOOP_DELAY_MS?: number;
  GATEWAY_TENANT_QUEUE_LENGTH: number;
  GATEWAY_TENANT_QUEUE_WAIT_MS: number;
  GATEWAY_TENANT_WEIGHTS?: string;
}

/**
 * Settings from the environment. Generic mode (GATEWAY_AUTH=none) serves a foreign supergraph
 * whose list sizes the cost model does not know, to one anonymous caller: depth, cost and tenant
 * limits are off there unless set explicitly.
 */
export function limitSettingsFromEnv(env: LimitEnvironment): GatewayLimitSettings {
  const generic = env.GATEWAY_AUTH === 'none';
  const defaults = DEFAULT_LIMIT_SETTINGS;
  return {
    maxDepth: env.GATEWAY_MAX_DEPTH ?? (generic ? 0 : defaults.maxDepth),
    maxCost: env.GATEWAY_MAX_COST ?? (generic ? 0 : defaults.maxCost),
    defaultListSize: env.GATEWAY_DEFAULT_LIST_SIZE,
    rate: {
      tenant: env.GATEWAY_RATE_LIMIT_TENANT === undefined ? defaults.rate.tenant : parseBucket(env.GATEWAY_RATE_LIMIT_TENANT),
      apiKey: env.GATEWAY_RATE_LIMIT_API_KEY === undefined ? defaults.rate.apiKey : parseBucket(env.GATEWAY_RATE_LIMIT_API_KEY),
      user: env.GATEWAY_RATE_LIMIT_USER === undefined ? defaults.rate.user : parseBucket(env.GATEWAY_RATE_LIMIT_USER),
      tenantOverrides: parseBucketOverrides(env.GATEWAY_RATE_LIMIT_TENANT_OVERRIDES),
      widgetKey: env.GATEWAY_RATE_LIMIT_WIDGET_KEY === undefined ? defaults.rate.widgetKey : parseBucket(env.GATEWAY_RATE_LIMIT_WIDGET_KEY),
      widgetIp: env.GATEWAY_RATE_LIMIT_WIDGET_IP === undefined ? defaults.rate.widgetIp : parseBucket(env.GATEWAY_RATE_LIMIT_WIDGET_IP),
    },
    maxSubscriptionsPerConnection: env.GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    maxSubscriptionsPerTenant: env.GATEWAY_MAX_SUBSCRIPTIONS_PER_TENANT ?? (generic ? 0 : defaults.maxSubscriptionsPerTenant),
    maxSubscriptionsPerUser: env.GATEWAY_MAX_SUBSCRIPTIONS_PER_USER ?? (generic ? 0 : defaults.maxSubscriptionsPerUser),
    maxSocketsPerUser: env.GATEWAY_MAX_SOCKETS_PER_USER ?? (generic ? 0 : defaults.maxSocketsPerUser),
    introspection: introspectionEnabled(env.GATEWAY_INTROSPECTION, env.NODE_ENV),
    storeTimeoutMs: defaults.storeTimeoutMs,
    // Generic mode's one anonymous caller is one "tenant": a per-tenant bound there would be the whole gateway's.
    fairShare: {
      maxConcurrent: env.GATEWAY_MAX_CONCURRENT_OPERATIONS ?? (generic ? 0 : defaults.fairShare.maxConcurrent),
      maxConcurrentPerTenant: env.GATEWAY_MAX_CONCURRENT_PER_TENANT ?? (generic ? 0 : defaults.fairShare.maxConcurrentPerTenant),
      maxConcurrentPerTenantContended:
        env.GATEWAY_MAX_CONCURRENT_PER_TENANT_CONTENDED ?? (generic ? 0 : defaults.fairShare.maxConcurrentPerTenantContended),
      contentionWindowMs: defaults.fairShare.contentionWindowMs,
      maxConcurrentPerTenantUnderPressure:
        env.GATEWAY_MAX_CONCURRENT_PER_TENANT_UNDER_PRESSURE ?? (generic ? 0 : defaults.fairShare.maxConcurrentPerTenantUnderPressure),
      stalledAfterMs: defaults.fairShare.stalledAfterMs,
      maxQueuedPerTenant: env.GATEWAY_TENANT_QUEUE_LENGTH,
      maxWaitMs: env.GATEWAY_TENANT_QUEUE_WAIT_MS,
      weights: parseWeights(env.GATEWAY_TENANT_WEIGHTS),
      defaultWeight: defaults.fairShare.defaultWeight,
    },
    pressure: { ...defaults.pressure, thresholdMs: env.GATEWAY_PRESSURE_EVENT_LOOP_DELAY_MS ?? defaults.pressure.thresholdMs },
  };
}
