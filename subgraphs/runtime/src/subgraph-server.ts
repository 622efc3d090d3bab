import { createServer, type Server } from 'node:http';
import { GraphQLError, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import { codedError, ErrorCode } from './errors';
import { closeServer, listen, routeLabel, routeOf, serveHealthRoute, serveMetrics, type Readiness } from './http';
import { requestLogger, type Logger } from './logger';
import type { ServiceMetrics } from './metrics';
import { createSubscriptionGauge } from './subscription-gauge';
import { attachSubgraphWs } from './subgraph-ws';
import { CONTEXT_HEADER, verifyContext, type TenantContext } from './tenant-context';

/** What every resolver of every subgraph gets: the verified caller and a logger tagged with them. */
export interface BaseContext {
  tenant: TenantContext;
  log: Logger;
}

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

  // Our own coded errors pass through; anything else is a bug and must not leak details. The line
  // about it carries the request's tenant and request id when the request got that far.
  const maskErrorFor =
    (log: Logger) =>
    (error: unknown): GraphQLError => {
      const graphqlError = error instanceof GraphQLError ? error : null;
      const original = graphqlError?.originalError;
      if (graphqlError && (!original || original instanceof GraphQLError)) return graphqlError;
      log.error({ err: original ?? error }, 'unexpected error in resolver');
      return new GraphQLError('Unexpected error.', {
        nodes: graphqlError?.nodes,
        path: graphqlError?.path,
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
      });
    };
  const maskError = maskErrorFor(logger);
  /** The result with its errors masked, logged with the request's tagged logger (the service's when there is no context). */
  const maskResult = (result: ExecutionResult, contextValue: unknown): ExecutionResult =>
    result.errors?.length
      ? { ...result, errors: result.errors.map(maskErrorFor((contextValue as Partial<BaseContext> | undefined)?.log ?? logger)) }
      : result;
  // Masks a query's or mutation's errors while its context (and so its tagged logger) is at hand;
  // yoga's own masking below then only sees coded errors, and still covers everything else.
  const maskWithRequestLogger: Plugin = {
    onExecute: ({ args }) => ({
      onExecuteDone: ({ result, setResult }) => {
        if (Symbol.asyncIterator in result) return;
        const masked = maskResult(result, args.contextValue);
        if (masked !== result) setResult(masked);
      },
    }),
  };

  const contextFor = (tenant: TenantContext): TContext =>
    options.createContext({ tenant, log: requestLogger(logger, tenant.tenantId, tenant.requestId) });

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
      const verified = verifyContext(request.headers.get(CONTEXT_HEADER), options.internalSecret);
      if (!verified.ok) {
        throw codedError(ErrorCode.UNAUTHENTICATED, `Refused: ${verified.reason}. Call this service through the gateway.`, {
          http: { status: 401 },
        });
      }
      return contextFor(verified.context);
    },
    maskedErrors: { maskError },
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
    internalSecret: options.internalSecret,
    contextFor,
    maskResult,
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
