import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Context } from './tracing';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import { codedError, ErrorCode } from './errors';
import { closeServer, listen, routeLabel, routeOf, serveHealthRoute, serveMetrics, type Readiness } from './http';
import type { Logger } from './logger';
import type { ServiceMetrics } from './metrics';
import { createSubscriptionGauge } from './subscription-gauge';
import { attachSubgraphWs } from './subgraph-ws';
import { createRequestContexts, type BaseContext } from './request-context';
import { CONTEXT_HEADER } from './signed-context';
import { activeSpan, ATTR, contextWith, extractTraceContext, failSpan, SpanKind, tracer, tracingEnabled, withContext } from './tracing';

/**
 * The SERVER span of one `/graphql` request to a subgraph (the gateway's fetch span is its parent,
 * through `traceparent`); ends with the response, failed on a 5xx.
 */
function traceRequest(service: string, req: IncomingMessage, res: ServerResponse): Context {
  const parent = extractTraceContext(req.headers as Record<string, unknown>);
  const method = req.method ?? 'GET';
  const name = `${method} /graphql`;
  const span = tracer(`@beedesk/${service}`).startSpan(
    name,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': '/graphql', 'url.path': '/graphql' } },
    parent,
  );
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) failSpan(span, new Error(`HTTP ${res.statusCode}`), name);
    span.end();
  };
  res.once('finish', end);
  res.once('close', end);
  return contextWith(span, parent);
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
  /**
   * How long close() waits for connections to go away by themselves (default 5 s); then, when no request
   * is in flight and no WebSocket is open, it closes the remaining ones.
   */
  closeGraceMs?: number;
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

  // The operation's type and name and the caller's tenant on the request's span (never its text).
  const traceOperation: Plugin = {
    onExecute: ({ args }) => {
      const span = activeSpan();
      if (!span?.isRecording()) return;
      const operation = (args.document as DocumentNode).definitions.find((d) => d.kind === 'OperationDefinition');
      const tenant = (args.contextValue as Partial<BaseContext> | undefined)?.caller?.tenantId;
      if (operation?.kind === 'OperationDefinition') {
        span.setAttribute('graphql.operation.type', operation.operation);
        if (operation.name) span.setAttribute('graphql.operation.name', operation.name.value);
      }
      if (tenant) span.setAttribute(ATTR.tenant, tenant);
    },
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
    plugins: [countSubscriptions, maskWithRequestLogger, traceOperation],
  });

  let requestsInFlight = 0;
  const server = createServer((req, res) => {
    requestsInFlight++;
    res.once('close', () => requestsInFlight--);
    const route = routeOf(req);
    const label = routeLabel(route);
    const stopTimer = metrics.requestSeconds.startTimer({ route: label });
    res.on('finish', () => {
      stopTimer();
      metrics.requests.inc({ route: label, status: String(res.statusCode) });
    });
    if (serveHealthRoute(route, res, options.readiness, () => draining)) return;
    if (route === '/metrics') return void serveMetrics(res, metrics);
    if (tracingEnabled() && route === '/graphql') return void withContext(traceRequest(options.name, req, res), () => yoga(req, res));
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
      const graceMs = options.closeGraceMs ?? 5_000;
      // Subscriptions end first (close 1001), so the gateway can tell its clients at once.
      await ws.close();
      // Connections that never sent a request would hold close() until the shutdown timeout (seen in
      // rolling restarts: 1 connection, nothing in flight): after the grace, with nothing in flight, they
      // are cut; otherwise it says what it waits for.
      await closeServer(server, {
        graceMs,
        mayCut: () => requestsInFlight === 0 && ws.openSockets === 0,
        onSlow: (connections, cutting) =>
          logger.warn(
            { connections, requestsInFlight, webSockets: ws.openSockets, closingThem: cutting },
            `HTTP server still closing after ${graceMs} ms`,
          ),
      });
    },
  };
}
