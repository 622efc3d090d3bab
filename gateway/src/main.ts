import cluster from 'node:cluster';
import {
  ConfigError,
  connectRedis,
  redisTargetOf,
  createInMemoryRedis,
  internalSecretOf,
  refuseDevelopmentSecrets,
  runServiceMain,
} from '@beedesk/runtime';
import { readSupergraph, supergraphPath } from '@beedesk/schema';
import { createAuthenticator, parseRoleMap } from './auth';
import { consoleAppRoutes, parseConsoleConfig } from './console-app';
import { applyCliArgs, DEV_JWT_SECRET, developmentSecretsOfGateway, gatewayEnv, manifestPathOf, subgraphUrlOverride } from './config';
import { corsFromEnv } from './cors';
import { limitSettingsFromEnv } from './limits';
import { startGateway } from './server';
import { runPrimary, workerCount } from './workers';

// Real-mode entry: `node gateway/dist/main.js [--supergraph <file>] [--auth none] [--port <n>] [--workers <n|auto>]`.
let workers = 1;
try {
  Object.assign(process.env, applyCliArgs(process.argv.slice(2), process.env));
  workers = workerCount(process.env.GATEWAY_WORKERS);
} catch (error) {
  process.stderr.write(`gateway: ${(error as Error).message}\n`);
  process.exit(2);
}

if (workers > 1 && cluster.isPrimary) runPrimary(workers);
else
  void runServiceMain('gateway', gatewayEnv, async ({ config, logger }) => {
    refuseDevelopmentSecrets(config, developmentSecretsOfGateway(config));
    if (config.GATEWAY_AUTH === 'none' && config.NODE_ENV === 'production' && config.GATEWAY_AUTH_NONE_FORCE !== 'true') {
      throw new ConfigError(['GATEWAY_AUTH=none is refused with NODE_ENV=production (add --force if you really mean it)']);
    }
    if (config.GATEWAY_AUTH === 'jwt' && !config.JWT_SECRET && !config.JWT_JWKS_URL && config.NODE_ENV === 'production') {
      throw new ConfigError(['JWT_JWKS_URL or JWT_SECRET: one is required with NODE_ENV=production']);
    }
    const path = config.SUPERGRAPH_PATH ?? supergraphPath;
    let supergraphSdl: string;
    try {
      supergraphSdl = readSupergraph(path);
    } catch (error) {
      throw new ConfigError([`SUPERGRAPH_PATH: cannot read ${path}: ${(error as Error).message}`]);
    }
    // The staff console (GATEWAY_CONSOLE_CONFIG): a bad setting stops the start, like any other.
    const consoleConfig = config.GATEWAY_CONSOLE_CONFIG ? parseConsoleConfig(config.GATEWAY_CONSOLE_CONFIG) : null;
    if (consoleConfig && !consoleConfig.ok) throw new ConfigError([consoleConfig.message]);
    const redisTarget = redisTargetOf(config);
    if (!redisTarget && config.NODE_ENV === 'production' && config.GATEWAY_AUTH !== 'none') {
      throw new ConfigError([
        'REDIS_URL or REDIS_CLUSTER_NODES: required with NODE_ENV=production (persisted documents and limits are shared by all replicas)',
      ]);
    }
    // Without REDIS_URL / REDIS_CLUSTER_NODES (development, generic mode) each replica keeps its own in-process store.
    const redis = redisTarget
      ? await connectRedis(redisTarget, { commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, log: logger })
      : createInMemoryRedis();
    const gateway = await startGateway({
      httpRoutes: consoleConfig?.ok ? consoleAppRoutes(consoleConfig.config) : undefined,
      supergraphSdl,
      mode:
        config.GATEWAY_AUTH === 'none'
          ? { kind: 'generic' }
          : {
              kind: 'beedesk',
              authenticate: createAuthenticator({
                // With a JWKS, HS256 tokens are accepted only when JWT_SECRET is set explicitly (never the dev secret).
                secret: config.JWT_SECRET ?? (config.JWT_JWKS_URL ? undefined : DEV_JWT_SECRET),
                jwksUrl: config.JWT_JWKS_URL,
                jwksTimeoutMs: config.JWT_JWKS_TIMEOUT_MS,
                jwksCooldownMs: config.JWT_JWKS_COOLDOWN_MS,
                onJwksUnavailable: (reason) =>
                  logger.warn({ reason }, 'JWKS unavailable: tokens signed by the identity provider are refused'),
                issuer: config.JWT_ISSUER,
                audience: config.JWT_AUDIENCE,
                claims: {
                  tenantClaim: config.JWT_TENANT_CLAIM,
                  rolesClaim: config.JWT_ROLES_CLAIM,
                  roleMap: config.JWT_ROLE_MAP ? parseRoleMap(config.JWT_ROLE_MAP) : undefined,
                },
                clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
                apiKeys: { redis, keyPrefix: config.REDIS_KEY_PREFIX },
              }),
            },
      internalSecret: internalSecretOf(config),
      redis,
      keyPrefix: config.REDIS_KEY_PREFIX,
      logger,
      host: config.HOST,
      port: config.PORT,
      maxBodyBytes: config.MAX_BODY_BYTES,
      subgraphTimeoutMs: config.SUBGRAPH_TIMEOUT_MS,
      documents: { maxQueryBytes: config.MAX_QUERY_BYTES, cacheMaxBytes: config.DOCUMENT_CACHE_MAX_BYTES },
      urlOverride: (name) => subgraphUrlOverride(name, process.env),
      dedupInflight: config.GATEWAY_DEDUP_INFLIGHT === 'true',
      limits: limitSettingsFromEnv(config),
      cors: corsFromEnv(config),
      persistedOperations: {
        manifestPath: manifestPathOf(config.PERSISTED_OPERATIONS_PATH, config.SUPERGRAPH_PATH),
        requireTrusted: config.GATEWAY_PERSISTED_ONLY === 'true',
        apqTtlSeconds: config.APQ_TTL_SECONDS,
        apqCaps: { maxCount: config.APQ_MAX_PER_TENANT, maxBytes: config.APQ_MAX_BYTES_PER_TENANT },
      },
    });
    return {
      ...gateway,
      close: async () => {
        await gateway.close();
        redis.disconnect();
      },
    };
  });
