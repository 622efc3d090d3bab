import { createServer, type Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import { codedError, ErrorCode } from './errors';
import { closeServer, listen, routeLabel, routeOf, serveHealthRoute, serveMetrics, type Readiness } from './http';
import type { Logger } from './logger';
import type { ServiceMetrics } from './metrics';
import { createSubscriptionGauge } from './subscription-gauge';
import { attachSubgraphWs } from './subgraph-ws';
import { createRequestContexts, type BaseContext } from './request-context';
import { CONTEXT_HEADER } from './signed-context';

export interface SubgraphServerOptions<TContext extends BaseContext> {
  name: string;
  schema: GraphQLSchema;
  internalSecret: string;
  logger: Logger;
  metrics: ServiceMetrics;
  readiness: Readiness;
  /** Adds per-request state (DataLoaders, repositories) to the verified base context. */
  createContext: (base: BaseContext) => TContext;
}

export interface SubgraphServer {
  server: Server;
  listen(port: number, host: string): Promise<number>;
  /** Stops taking requests (health turns 503) and waits for in-flight ones. */
  close(): Promise<void>;
}

/**
 * A subgraph: graphql-yoga over a federation schema, behind a plain node:http server that also
 * serves `/health` and `/metrics`. Only requests carrying a tenant context signed by the gateway
 * are executed; a direct call without one is refused with UNAUTHENTICATED.
 */
export function createSubgraphServer<TContext extends BaseContext>(options: SubgraphServerOptions<TContext>): SubgraphServer {
  const { logger, metrics } = options;
  let draining = false;
  const gauge = createSubscriptionGauge(metrics);
  // Subscriptions over SSE (served by yoga) count in the same gauge as graphql-ws ones.
  const countSubscriptions: Plugin = {
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (Symbol.asyncIterator in result) setResult(gauge.count(result));
      },
    }),
  };

  const contexts = createRequestContexts({ internalSecret: options.internalSecret, logger, createContext: options.createContext });
  // Masks a query's or mutation's errors while its context (and so its tagged logger) is at hand;
  // yoga's own masking below then only sees coded errors, and still covers everything else.
  const maskWithRequestLogger: Plugin = {
    onExecute: ({ args }) => ({
      onExecuteDone: ({ result, setResult }) => {
        if (Symbol.asyncIterator in result) return;
        const masked = contexts.maskResult(result, args.contextValue);
        if (masked !== result) setResult(masked);
      },
    }),
  };

  const yoga = createYoga<Record<string, unknown>, TContext>({
    schema: options.schema,
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    logging: {
      debug: (...args) => logger.debug(args.join(' ')),
      info: (...args) => logger.info(args.join(' ')),
      warn: (...args) => logger.warn(args.join(' ')),
      error: (...args) => logger.error(args.join(' ')),
    },
    context: ({ request }: YogaInitialContext): TContext => {
      const verified = contexts.verify(request.headers.get(CONTEXT_HEADER));
      if (!verified.ok) throw codedError(ErrorCode.UNAUTHENTICATED, verified.message, { http: { status: 401 } });
      return contexts.contextFor(verified.caller);
    },
    maskedErrors: { maskError: contexts.maskError },
    plugins: [countSubscriptions, maskWithRequestLogger],
  });

  const server = createServer((req, res) => {
    const route = routeOf(req);
    const label = routeLabel(route);
    const stopTimer = metrics.requestSeconds.startTimer({ route: label });
    res.on('finish', () => {
      stopTimer();
      metrics.requests.inc({ route: label, status: String(res.statusCode) });
    });
    if (serveHealthRoute(route, res, options.readiness, () => draining)) return;
    if (route === '/metrics') return void serveMetrics(res, metrics);
    return void yoga(req, res);
  });
  server.keepAliveTimeout = 65_000;
  const ws = attachSubgraphWs({
    server,
    schema: options.schema,
    contexts,
    gauge,
  });

  return {
    server,
    listen: (port, host) => listen(server, port, host),
    close: async () => {
      draining = true;
      // Subscriptions end first (close 1001), so the gateway can tell its clients at once.
      await ws.close();
      await closeServer(server);
    },
  };
}
