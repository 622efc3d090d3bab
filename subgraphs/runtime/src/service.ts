import type { Kafka } from 'kafkajs';
import { z } from 'zod';
import {
  commonEnv,
  ConfigError,
  developmentSecretsOf,
  internalSecretOf,
  kafkaBrokersOf,
  loadConfig,
  refuseDevelopmentSecrets,
  UnsafeDefaultsError,
  type CommonConfig,
} from './config';
import { createRedisEventBus, type EventBus } from './live';
import { createLogger, type Logger } from './logger';
import { createKafka, ensureTopic } from './queue/kafka';
import { connectRedis, DependencyUnavailableError, redisTargetOf, type Redis } from './redis';
import { Lifecycle } from './shutdown';
import { startTracing, tracingSettingsOf } from './tracing';
import type { ServiceDeps } from './subgraph';

/** A service that is up: the port it listens on and how to stop it gracefully. */
export interface StartedService {
  port: number;
  close(): Promise<void>;
}

export interface MainContext<C extends CommonConfig> {
  config: C;
  logger: Logger;
  lifecycle: Lifecycle;
  /**
   * Connects to REDIS_CLUSTER_NODES or REDIS_URL (one is required in real mode); closed last on shutdown.
   * Its commands are bounded by REDIS_COMMAND_TIMEOUT_MS, or when that is unset by `defaultCommandTimeoutMs`
   * (unset: connectRedis's DEFAULT_REDIS_COMMAND_TIMEOUT_MS; 0: none).
   */
  redis(defaultCommandTimeoutMs?: number): Promise<Redis>;
  /** Connects to KAFKA_BROKERS (required) and makes sure the inference topic exists. */
  kafka(): Promise<Kafka>;
}

/**
 * Process warnings as structured log lines instead of Node's plain text on stderr, so every line a
 * service writes is JSON. kafkajs 2.2.4 sets a negative timer on every connection under Node 24
 * (TimeoutNegativeWarning, tulios/kafkajs#1751; Node then waits 1 ms, which is what kafkajs meant):
 * that one is kept at debug level.
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    const fields = { warning: { name: warning.name, message: warning.message } };
    if (warning.name === 'TimeoutNegativeWarning') logger.debug(fields, 'process warning');
    else logger.warn(fields, 'process warning');
  });
}

/**
 * The real-mode entry point of every service: validated config, connections that fail fast with a
 * clear message (exit 1, never a hang), and SIGTERM handling that ends with exit 0. A process bound to a
 * non-loopback address with development secrets (`developmentSecrets`, default: the internal secret)
 * refuses to start before connecting to anything (exit UNSAFE_DEFAULTS_EXIT_CODE, refuseDevelopmentSecrets).
 */
export async function runServiceMain<S extends z.ZodType<CommonConfig>>(
  name: string,
  schema: S,
  start: (context: MainContext<z.infer<S>>) => Promise<StartedService>,
  developmentSecrets?: (config: z.infer<S>) => string[],
): Promise<void> {
  let logger = createLogger(name);
  try {
    const config = loadConfig(schema);
    logger = createLogger(name, config.LOG_LEVEL);
    if (developmentSecrets) refuseDevelopmentSecrets(config, developmentSecrets(config));
    logProcessWarnings(logger);
    const lifecycle = new Lifecycle(logger);
    // Registered first, so it runs last on shutdown: the spans of the final requests are exported too.
    const tracing = startTracing(tracingSettingsOf(process.env, name));
    lifecycle.onShutdown('tracing', () => tracing.shutdown());
    if (tracing.settings) logger.info({ tracesUrl: tracing.settings.tracesUrl, ratio: tracing.settings.ratio }, 'tracing on (OTLP)');
    const context: MainContext<z.infer<S>> = {
      config,
      logger,
      lifecycle,
      redis: async (defaultCommandTimeoutMs) => {
        const target = redisTargetOf(config);
        if (!target)
          throw new ConfigError(['REDIS_URL: required (e.g. redis://127.0.0.1:6379), or REDIS_CLUSTER_NODES for a Redis Cluster']);
        const commandTimeoutMs = config.REDIS_COMMAND_TIMEOUT_MS ?? defaultCommandTimeoutMs;
        const redis = await connectRedis(target, { commandTimeoutMs, log: logger });
        lifecycle.onShutdown('redis', async () => void (await redis.quit()));
        return redis;
      },
      kafka: async () => {
        const brokers = kafkaBrokersOf(config);
        if (brokers.length === 0) throw new ConfigError(['KAFKA_BROKERS: required (e.g. 127.0.0.1:9092)']);
        const kafka = createKafka(brokers, `beedesk-${name}`, logger);
        await ensureTopic(kafka, brokers, config.KAFKA_TOPIC, config.KAFKA_PARTITIONS, {
          replicationFactor: config.KAFKA_REPLICATION_FACTOR,
          minInsyncReplicas: config.KAFKA_MIN_INSYNC_REPLICAS,
        });
        return kafka;
      },
    };
    const service = await start(context);
    lifecycle.onShutdown('http', () => service.close());
    lifecycle.installSignalHandlers(config.SHUTDOWN_TIMEOUT_MS);
    logger.info({ port: service.port }, `${name} ready`);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DependencyUnavailableError) {
      logger.fatal(error.message);
      process.stderr.write(`${name}: ${error.message}\n`);
    } else {
      logger.fatal({ err: error }, 'failed to start');
    }
    process.exit(error instanceof UnsafeDefaultsError ? error.exitCode : 1);
  }
}

/** The env of a subgraph: the common settings plus its PORT. */
export const subgraphEnv = (defaultPort: number) =>
  commonEnv.extend({ PORT: z.coerce.number().int().min(0).max(65535).default(defaultPort) });
export type SubgraphConfig = CommonConfig & { PORT: number };

export interface SubgraphMainContext extends MainContext<SubgraphConfig> {
  /**
   * The ServiceDeps of this process, with its Redis connected (`redisCommandTimeoutMs`: the default bound
   * on its commands, see MainContext.redis) and live events on Redis pub/sub.
   */
  deps(options?: { redisCommandTimeoutMs?: number }): Promise<ServiceDeps & { events: EventBus }>;
}

/** `main.ts` of a subgraph in real mode, in one line. */
export function runSubgraphMain(
  name: string,
  defaultPort: number,
  start: (context: SubgraphMainContext) => Promise<StartedService>,
): Promise<void> {
  return runServiceMain(
    name,
    subgraphEnv(defaultPort),
    (context) =>
      start({
        ...context,
        deps: async (options) => {
          const redis = await context.redis(options?.redisCommandTimeoutMs);
          // Live events over Redis pub/sub, so every replica's subscribers see every event.
          const events = createRedisEventBus(redis, context.config.REDIS_KEY_PREFIX, context.logger);
          context.lifecycle.onShutdown('live events', () => events.close());
          return {
            redis,
            keyPrefix: context.config.REDIS_KEY_PREFIX,
            internalSecret: internalSecretOf(context.config),
            logger: context.logger,
            host: context.config.HOST,
            port: context.config.PORT,
            events,
          };
        },
      }),
    developmentSecretsOf,
  );
}
