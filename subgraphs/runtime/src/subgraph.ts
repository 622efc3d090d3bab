import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import type { EventPublisher } from './events';
import { READINESS_TIMEOUT_MS, withinTime, type Readiness } from './http';
import type { Logger } from './logger';
import { createMetrics, type ServiceMetrics } from './metrics';
import type { Redis } from './redis';
import type { StartedService } from './service';
import type { BaseContext } from './request-context';
import { createSubgraphServer } from './subgraph-server';

export type { GraphQLResolverMap };

/**
 * A subgraph's resolvers. Each subgraph types them with the `Resolvers` generated from its own SDL
 * (src/generated/resolvers.ts, `npm run codegen`), which checks them against the schema; here they are
 * only passed on to buildSubgraphSchema.
 */
export type SubgraphResolvers = { readonly [typeName: string]: object | undefined };

/** What every subgraph needs, whether it runs alone (real mode) or in the embedded default. */
export interface ServiceDeps {
  redis: Redis;
  keyPrefix: string;
  internalSecret: string;
  logger: Logger;
  host: string;
  port: number;
  /** Default process metrics only once per process (the embedded default runs five services in one). */
  defaultMetrics?: boolean;
  /** Where live answer and activity events go; none when omitted. */
  events?: EventPublisher;
}

export interface SubgraphSpec<C extends BaseContext> {
  name: string;
  sdl: string;
  resolvers: SubgraphResolvers;
  createContext: (base: BaseContext) => C;
  /** Extra readiness checks beside Redis (e.g. Kafka). */
  readiness?: Readiness;
  metrics?: ServiceMetrics;
}

/** `ok` when Redis answers PING within `timeoutMs` (a disconnected client queues commands: never wait on it). */
export async function pingRedis(redis: Redis, timeoutMs = READINESS_TIMEOUT_MS / 2): Promise<string> {
  // The in-process stand-in (ioredis-mock) has no status.
  const status = redis.status as string | undefined;
  if (status !== undefined && status !== 'ready') return `not connected (${status})`;
  const ping = redis.ping().then(
    (reply) => (reply === 'PONG' ? 'ok' : 'unexpected PING reply'),
    (error: unknown) => (error as Error).message,
  );
  return withinTime(ping, timeoutMs);
}

/** Builds the federation schema and serves it; resolves once listening. */
export async function startSubgraph<C extends BaseContext>(deps: ServiceDeps, spec: SubgraphSpec<C>): Promise<StartedService> {
  // Resolvers are typed by the generated types of the subgraph's schema; the library types them loosely.
  const schema = buildSubgraphSchema({ typeDefs: parse(spec.sdl), resolvers: spec.resolvers as GraphQLResolverMap<unknown> });
  const metrics = spec.metrics ?? createMetrics(spec.name, deps.defaultMetrics ?? true);
  const subgraph = createSubgraphServer({
    name: spec.name,
    schema,
    internalSecret: deps.internalSecret,
    logger: deps.logger,
    metrics,
    readiness: async () => ({ redis: await pingRedis(deps.redis), ...(spec.readiness ? await spec.readiness() : {}) }),
    createContext: spec.createContext,
  });
  const port = await subgraph.listen(deps.port, deps.host);
  return { port, close: () => subgraph.close() };
}
