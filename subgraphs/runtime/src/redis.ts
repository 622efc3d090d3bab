import IORedis, { Cluster, type ClusterOptions } from 'ioredis';
import RedisMock from 'ioredis-mock';

/**
 * A Redis client: one node (ioredis `Redis`) or a Redis Cluster (ioredis `Cluster`). Every data module
 * takes this and runs the same code on both, which is possible because every multi-key command,
 * transaction, pipeline and Lua script touches the keys of one tenant only, all under the tenant's hash
 * tag (keys.ts) and so in one slot. Commands that need one node (SCAN) go through `nodesOf`.
 */
export type Redis = IORedis | Cluster;
/** A MULTI or pipeline being assembled (repositories add their commands to one transaction). */
export type { ChainableCommander } from 'ioredis';

export class DependencyUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DependencyUnavailableError';
  }
}

/**
 * True for the errors ioredis raises while Redis cannot serve for a moment — connection lost or refused,
 * retries per request used up, a cluster failover (CLUSTERDOWN, TRYAGAIN, MASTERDOWN, no slots cache, too
 * many redirections), a replica still loading or a demoted master refusing writes (READONLY) — as opposed
 * to a bug in a command or script. Callers answer these SERVICE_UNAVAILABLE: retrying soon is the fix.
 */
export function isRedisUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof DependencyUnavailableError) return true;
  if (error.name === 'MaxRetriesPerRequestError' || error.name === 'ClusterAllFailedError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) {
    return true;
  }
  return REDIS_UNAVAILABLE_MESSAGES.test(error.message);
}

const REDIS_UNAVAILABLE_MESSAGES =
  /^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN|LOADING|READONLY)\b|^Command timed out$|Connection is closed|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available|Stream isn't writeable/;

/** Where Redis is: a single node's URL, or a Redis Cluster's seed nodes (`host:port,…`, any of its nodes). */
export type RedisTarget = { url: string } | { clusterNodes: string };

/** The target REDIS_CLUSTER_NODES / REDIS_URL name (the cluster wins when both are set), or null with neither. */
export function redisTargetOf(config: { REDIS_URL?: string | undefined; REDIS_CLUSTER_NODES?: string | undefined }): RedisTarget | null {
  if (config.REDIS_CLUSTER_NODES) return { clusterNodes: config.REDIS_CLUSTER_NODES };
  if (config.REDIS_URL) return { url: config.REDIS_URL };
  return null;
}

/** What a Cluster client may log about topology changes and failover (a pino logger fits). */
export interface RedisEventLog {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

/**
 * Redis Cluster handling, bounded: a MOVED or ASK redirection is followed at most 16 times per command
 * (then the command fails); TRYAGAIN (a slot mid-migration), CLUSTERDOWN (no master for a slot yet, while
 * a replica is being promoted) and a failover are retried after 100/200/200 ms within the same 3 retries
 * per request a single node gets, so a command waits at most about a second on a failover before
 * failing with a value (the callers answer SERVICE_UNAVAILABLE or retry through the outbox).
 */
export const CLUSTER_OPTIONS: ClusterOptions = {
  maxRedirections: 16,
  retryDelayOnTryAgain: 100,
  retryDelayOnClusterDown: 200,
  retryDelayOnFailover: 200,
  // A node that went away (killed master) is reconnected when it comes back as a replica.
  clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  slotsRefreshTimeout: 2000,
  enableOfflineQueue: true,
  scaleReads: 'master',
};

function clusterNodesOf(list: string): { host: string; port: number }[] {
  return list.split(',').map((entry) => {
    const [host, port] = entry.trim().split(':');
    return { host: host!, port: Number(port) };
  });
}

/** How long a Redis command may go unanswered before it fails (REDIS_COMMAND_TIMEOUT_MS's default). */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 2000;

export interface RedisConnectOptions {
  /** The first connection and its PING must succeed within this; default 5 s. */
  connectTimeoutMs?: number;
  /**
   * A command unanswered for this long fails with ioredis's "Command timed out", which callers answer
   * SERVICE_UNAVAILABLE (isRedisUnavailableError); 0: no bound. Default DEFAULT_REDIS_COMMAND_TIMEOUT_MS.
   */
  commandTimeoutMs?: number | undefined;
  /** Where a Cluster client logs topology changes and failover. */
  log?: RedisEventLog;
}

/**
 * Connects to a real Redis — one node or a Redis Cluster — failing within `connectTimeoutMs` with a message
 * that says how to fix it (services must not hang at start when Redis is down). After start, ioredis
 * reconnects forever; in a cluster it follows redirections and failovers (CLUSTER_OPTIONS), logged on `log`.
 *
 * Every command is bounded by `commandTimeoutMs`: a Redis that stops answering without closing the
 * connection otherwise holds each request as long as the connection stays up: for good with a hung
 * process (its kernel keeps the connection), many minutes with a node cut off with no reset (until TCP
 * gives up retransmitting). A timed-out write may still be applied when
 * Redis answers again, as with a connection lost after sending; the command's late reply is matched to
 * it and dropped, so the connection's later replies stay in order.
 */
export async function connectRedis(target: string | RedisTarget, options: RedisConnectOptions = {}): Promise<Redis> {
  const { connectTimeoutMs = 5000, commandTimeoutMs = DEFAULT_REDIS_COMMAND_TIMEOUT_MS, log } = options;
  const where = typeof target === 'string' ? { url: target } : target;
  const redisOptions = {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    ...(commandTimeoutMs > 0 ? { commandTimeout: commandTimeoutMs } : {}),
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    // Only the first connection is bounded; later outages retry with a capped back-off.
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
  };
  const redis: Redis =
    'url' in where
      ? new IORedis(where.url, redisOptions)
      : new Cluster(clusterNodesOf(where.clusterNodes), { ...CLUSTER_OPTIONS, lazyConnect: true, redisOptions });
  let lastError: unknown;
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  if (redis instanceof Cluster && log) {
    redis.on('+node', (node: IORedis) => log.info({ node: `${node.options.host}:${node.options.port}` }, 'redis cluster node added'));
    redis.on('-node', (node: IORedis) => log.info({ node: `${node.options.host}:${node.options.port}` }, 'redis cluster node removed'));
    redis.on('node error', (error: Error, node: string) => log.warn({ node, err: error.message }, 'redis cluster node error'));
  }
  const safeUrl = 'url' in where ? where.url.replace(/\/\/[^@/]*@/, '//***@') : `cluster ${where.clusterNodes}`;
  const timer = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs).unref(),
  );
  try {
    await Promise.race([redis.connect(), timer]);
    await Promise.race([redis.ping(), timer]);
    return redis;
  } catch (error) {
    redis.disconnect();
    const reason = (lastError as Error | undefined)?.message ?? (error as Error).message;
    throw new DependencyUnavailableError(
      `Cannot reach Redis at ${safeUrl} (${reason}). Start Redis (e.g. \`redis-server --port 6379\`) or set REDIS_URL (or REDIS_CLUSTER_NODES for a Redis Cluster).`,
    );
  }
}

/**
 * The embedded default's stand-in: an in-process Redis (ioredis-mock) speaking the same API,
 * so every service runs the same data code in both modes. Instances share one data set.
 */
export function createInMemoryRedis(): Redis {
  return new RedisMock() as unknown as Redis;
}

/** Run a MULTI and surface the first command error instead of ioredis's [error, result] pairs. */
export async function execOrThrow(multi: ReturnType<Redis['multi']>): Promise<unknown[]> {
  const results = await multi.exec();
  if (!results) throw new Error('Redis transaction was aborted');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** The nodes a SCAN must visit to see every key: the client itself, or every master of a Redis Cluster. */
export function nodesOf(redis: Redis): IORedis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/** True when `redis` is a Redis Cluster client (sharded pub/sub, per-node SCAN). */
export const isCluster = (redis: Redis): redis is Cluster => redis instanceof Cluster;

/**
 * Every key matching a SCAN pattern (a whole prefix, for erasure audits and tests that remove only their
 * own keys), on every master of a cluster.
 */
export async function keysMatching(redis: Redis, pattern: string, count = 500): Promise<string[]> {
  const found: string[] = [];
  for (const node of nodesOf(redis)) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
  }
  return found;
}
