import { introspectionEnabled } from '../introspection';
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
}

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
  };
}
