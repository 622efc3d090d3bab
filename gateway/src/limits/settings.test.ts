import { gatewayEnv } from '../config';
import { DEFAULT_LIMIT_SETTINGS, limitSettingsFromEnv, parseBucket, parseBucketOverrides, parseWeights } from './settings';

const settingsOf = (env: Record<string, string>) => limitSettingsFromEnv(gatewayEnv.parse(env));

describe('limit settings from the environment', () => {
  it('defaults to DEFAULT_LIMIT_SETTINGS (introspection only in development)', () => {
    expect(settingsOf({ NODE_ENV: 'production' })).toEqual(DEFAULT_LIMIT_SETTINGS);
    expect(settingsOf({ NODE_ENV: 'development' }).introspection).toBe(true);
  });

  it('generic mode (GATEWAY_AUTH=none) has no depth, cost or tenant limits unless set', () => {
    const generic = settingsOf({ GATEWAY_AUTH: 'none' });
    expect(generic).toMatchObject({
      maxDepth: 0,
      maxCost: 0,
      maxSubscriptionsPerTenant: 0,
      maxSubscriptionsPerUser: 0,
      maxSocketsPerUser: 0,
      maxSubscriptionsPerConnection: 100,
    });
    expect(settingsOf({ GATEWAY_AUTH: 'none', GATEWAY_MAX_COST: '900', GATEWAY_MAX_DEPTH: '7' })).toMatchObject({
      maxDepth: 7,
      maxCost: 900,
    });
  });

  it('reads buckets, overrides and caps', () => {
    const settings = settingsOf({
      GATEWAY_RATE_LIMIT_TENANT: '2.5:10',
      GATEWAY_RATE_LIMIT_API_KEY: '0',
      GATEWAY_RATE_LIMIT_TENANT_OVERRIDES: 'big=100:200,free=0',
      GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION: '5',
      GATEWAY_MAX_SUBSCRIPTIONS_PER_TENANT: '50',
      GATEWAY_RATE_LIMIT_USER: '3:6',
      GATEWAY_MAX_SUBSCRIPTIONS_PER_USER: '7',
      GATEWAY_MAX_SOCKETS_PER_USER: '4',
      GATEWAY_INTROSPECTION: 'true',
      GATEWAY_RATE_LIMIT_WIDGET_IP: '0.5:5',
      GATEWAY_RATE_LIMIT_WIDGET_KEY: '0',
    });
    expect(settings.rate).toEqual({
      tenant: { ratePerSecond: 2.5, burst: 10 },
      apiKey: null,
      user: { ratePerSecond: 3, burst: 6 },
      tenantOverrides: new Map([
        ['big', { ratePerSecond: 100, burst: 200 }],
        ['free', { ratePerSecond: 0, burst: 0 }],
      ]),
      widgetIp: { ratePerSecond: 0.5, burst: 5 },
      widgetKey: null,
    });
    expect(settings).toMatchObject({
      maxSubscriptionsPerConnection: 5,
      maxSubscriptionsPerTenant: 50,
      maxSubscriptionsPerUser: 7,
      maxSocketsPerUser: 4,
      introspection: true,
    });
  });

  it('reads the fair share: bounds, queue, weights; off in generic mode unless set', () => {
    expect(
      settingsOf({
        GATEWAY_MAX_CONCURRENT_OPERATIONS: '32',
        GATEWAY_MAX_CONCURRENT_PER_TENANT: '0',
        GATEWAY_MAX_CONCURRENT_PER_TENANT_CONTENDED: '3',
        GATEWAY_MAX_CONCURRENT_PER_TENANT_UNDER_PRESSURE: '2',
        GATEWAY_TENANT_QUEUE_LENGTH: '20',
        GATEWAY_TENANT_QUEUE_WAIT_MS: '750',
        GATEWAY_TENANT_WEIGHTS: 'gold=4,free=0.5',
      }).fairShare,
    ).toEqual({
      maxConcurrent: 32,
      maxConcurrentPerTenant: 0,
      maxConcurrentPerTenantContended: 3,
      contentionWindowMs: 1000,
      maxConcurrentPerTenantUnderPressure: 2,
      stalledAfterMs: 1000,
      maxQueuedPerTenant: 20,
      maxWaitMs: 750,
      weights: new Map([
        ['gold', 4],
        ['free', 0.5],
      ]),
      defaultWeight: 1,
    });
    expect(settingsOf({ GATEWAY_AUTH: 'none' }).fairShare).toMatchObject({
      maxConcurrent: 0,
      maxConcurrentPerTenant: 0,
      maxConcurrentPerTenantContended: 0,
      maxConcurrentPerTenantUnderPressure: 0,
    });
    expect(settingsOf({}).fairShare.maxConcurrentPerTenantUnderPressure).toBe(1);
    expect(settingsOf({}).pressure).toEqual({ thresholdMs: 1, sampleMs: 250, holdMs: 2000 });
    expect(settingsOf({ GATEWAY_PRESSURE_EVENT_LOOP_DELAY_MS: '0' }).pressure.thresholdMs).toBe(0);
    expect(settingsOf({ GATEWAY_AUTH: 'none', GATEWAY_MAX_CONCURRENT_OPERATIONS: '8' }).fairShare.maxConcurrent).toBe(8);
    expect(() => gatewayEnv.parse({ GATEWAY_TENANT_WEIGHTS: 'gold' })).toThrow(/weight/);
    expect(() => parseWeights('gold=0')).toThrow(/above 0/);
  });

  it('refuses malformed values at start', () => {
    expect(() => gatewayEnv.parse({ GATEWAY_RATE_LIMIT_TENANT: '10' })).toThrow(/per second/);
    expect(() => gatewayEnv.parse({ GATEWAY_RATE_LIMIT_TENANT_OVERRIDES: 'a=1:2,b' })).toThrow(/tenant=/);
    expect(() => parseBucket('x:1')).toThrow();
    expect(parseBucketOverrides(undefined).size).toBe(0);
  });
});
