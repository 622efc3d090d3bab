import { z } from 'zod';

/**
 * Environment settings shared by every service. Each service extends this with its own
 * fields and calls `loadConfig` once at start, so a typo fails fast with a readable message.
 */
export const commonEnv = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Tenants whose requests log at debug level, message text included (logger.ts `mayLogText`); off for all by default. */
  LOG_DEBUG_TENANTS: z
    .string()
    .regex(/^\s*[a-z0-9][a-z0-9-]{0,62}\s*(,\s*[a-z0-9][a-z0-9-]{0,62}\s*)*$/, 'a comma-separated list of tenant ids')
    .optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * `true` says this is a development deployment: a process bound to a non-loopback HOST may then run with
   * the published development secrets (otherwise it refuses to start, see refuseDevelopmentSecrets).
   */
  BEEDESK_DEV_DEPLOYMENT: z.enum(['true', 'false']).default('false'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must look like redis://host:port[/db]')
    .optional(),
  /** A Redis Cluster's seed nodes (any of its nodes, `host:port,…`); when set it is used instead of REDIS_URL. */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[^,\s:]+:\d+(,[^,\s:]+:\d+)*$/, 'a comma-separated list of host:port (seed nodes of a Redis Cluster)')
    .optional(),
  /**
   * A Redis command unanswered this long fails (SERVICE_UNAVAILABLE to the caller); 0: no bound. Unset: the
   * service's default (connectRedis's DEFAULT_REDIS_COMMAND_TIMEOUT_MS; none for the inference worker).
   */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and dashes, at most 32')
    .default('bd'),
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+(,[^,\s]+)*$/, 'a comma-separated list of host:port')
    .optional(),
  KAFKA_TOPIC: z.string().min(1).default('inference.requests'),
  KAFKA_GROUP_ID: z.string().min(1).default('beedesk-inference'),
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(6),
  /** Replicas of the request topic when a service creates it (a three-broker cluster: 3); unset: the brokers' default. */
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(16).optional(),
  /** The topic's min.insync.replicas when a service creates it (with acks=all: 2 of 3); unset: the brokers' default. */
  KAFKA_MIN_INSYNC_REPLICAS: z.coerce.number().int().min(1).max(16).optional(),
  /** HMAC secret shared by the gateway and the subgraphs to sign the tenant context. */
  INTERNAL_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(25_000),
});
export type CommonConfig = z.infer<typeof commonEnv>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `env` with `schema`; throws a ConfigError listing every bad variable at once. */
export function loadConfig<S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  // `FOO=` in a shell or a manifest means "not set", not "set to nothing".
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(given);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
  }
  return parsed.data;
}

/** Development gets a fixed secret so `npm start` needs no setup; production must set one. */
export const DEV_INTERNAL_SECRET = 'beedesk-dev-internal-secret-change-me';

export function internalSecretOf(config: Pick<CommonConfig, 'INTERNAL_SECRET' | 'NODE_ENV'>): string {
  if (config.INTERNAL_SECRET) return config.INTERNAL_SECRET;
  if (config.NODE_ENV === 'production') throw new ConfigError(['INTERNAL_SECRET: required when NODE_ENV=production']);
  return DEV_INTERNAL_SECRET;
}

/** Exit code of a process that refuses to start with development secrets on a reachable address (sysexits EX_CONFIG). */
export const UNSAFE_DEFAULTS_EXIT_CODE = 78;

/** Refusal to serve the network with published development secrets; its message is one line. */
export class UnsafeDefaultsError extends ConfigError {
  readonly exitCode = UNSAFE_DEFAULTS_EXIT_CODE;
  constructor(readonly reason: string) {
    super([reason]);
    this.name = 'UnsafeDefaultsError';
    this.message = reason;
  }
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * The published development secrets (DEV_INTERNAL_SECRET, the gateway's DEV_JWT_SECRET) let anyone forge a
 * tenant context or a token. A process that binds a non-loopback address refuses to start with any of them in
 * use (`secretsInUse` names the unset settings), unless the deployment says it is for development:
 * BEEDESK_DEV_DEPLOYMENT=true or NODE_ENV=development set explicitly (`env`, not the schema's default).
 */
export function refuseDevelopmentSecrets(
  config: Pick<CommonConfig, 'HOST' | 'BEEDESK_DEV_DEPLOYMENT'>,
  secretsInUse: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (secretsInUse.length === 0 || isLoopbackHost(config.HOST)) return;
  if (config.BEEDESK_DEV_DEPLOYMENT === 'true' || env.NODE_ENV === 'development') return;
  const names = secretsInUse.join(', ');
  throw new UnsafeDefaultsError(
    `refusing to start: HOST=${config.HOST} is reachable from other machines but ${names} ${secretsInUse.length === 1 ? 'is' : 'are'} not set, ` +
      `so the published development ${secretsInUse.length === 1 ? 'secret' : 'secrets'} would let anyone forge tokens and tenant contexts; ` +
      `set ${names}, bind HOST=127.0.0.1, or declare a development deployment with BEEDESK_DEV_DEPLOYMENT=true (or NODE_ENV=development)`,
  );
}

/** The development secrets a subgraph would use: the internal secret when INTERNAL_SECRET is unset. */
export const developmentSecretsOf = (config: Pick<CommonConfig, 'INTERNAL_SECRET'>): string[] =>
  config.INTERNAL_SECRET ? [] : ['INTERNAL_SECRET'];

export function kafkaBrokersOf(config: Pick<CommonConfig, 'KAFKA_BROKERS'>): string[] {
  return config.KAFKA_BROKERS ? config.KAFKA_BROKERS.split(',') : [];
}
