import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import {
  closeServer,
  createMetrics,
  listen,
  newId,
  requestLogger,
  pingRedis,
  routeLabel,
  serveHealthRoute,
  serveMetrics,
  type Logger,
  type Readiness,
  type Redis,
  type StartedService,
  ATTR,
  failSpan,
  tracingEnabled,
  type Span,
  withActiveSpan,
  withContext,
} from '@beedesk/runtime';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { credentialsOf } from './caller';
import { handleCors, handleWidgetCors, type CorsPolicy } from './cors';
import { createFederatedExecutor, requestErrorResults, type FederatedExecutor } from './executor';
import { createGatewayLimits, DEFAULT_LIMIT_SETTINGS, type GatewayLimitSettings } from './limits';
import { readGraphQLParams, type GraphQLParams } from './graphql-request';
import {
  ApqStore,
  createPersistedDocuments,
  DEFAULT_APQ_CAPS,
  defaultManifestPath,
  loadTrustedDocuments,
  TrustedDocuments,
  type ApqCaps,
} from './persisted';
import {
  createAdmission,
  DEFAULT_DOCUMENT_SETTINGS,
  useAuthentication,
  useDocument,
  useOperationLimits,
  usePersistedDocuments,
  useRateLimit,
  useSignedContext,
  useTenantFairShare,
  operationAttributes,
  operationTypeOf,
  persistedDocumentId,
  startOperationSpan,
  traceHttpRequest,
  useTracing,
  useVisitorTokens,
  type DocumentSettings,
  type AdmittedConnection,
  type GatewayMode,
  type Refusal,
  type ScheduledOperation,
} from './pipeline';
import { errorBody, HttpError, sendErrors, sendJson } from './http-io';
import { isSilentlyNulled, silentlyNulledError, withCodes } from './result-errors';
import { createGatewaySubscriptions, wantsEventStream } from './subscriptions';
import { createSubgraphAgent, InflightDeduplication, type GatewayRequestContext } from './subgraph-data-source';
import { createGatewayTelemetry } from './telemetry';
import { createWidgetExchange, VisitorTokens } from './widget';

export interface GatewayOptions {
  supergraphSdl: string;
  /** `beedesk` (callers authenticate) or `generic` (`--auth none`): see GatewayMode. */
  mode: GatewayMode;
  internalSecret: string;
  /** Shared by every gateway replica: persisted documents, rate limits, subscription counts. */
  redis: Redis;
  keyPrefix: string;
  logger: Logger;
  host: string;
  port: number;
  maxBodyBytes: number;
  subgraphTimeoutMs: number;
  /** The query text's bound and the parsed-document cache's (default: DEFAULT_DOCUMENT_SETTINGS). */
  documents?: DocumentSettings;
  urlOverride: (subgraph: string) => string | undefined;
  defaultMetrics?: boolean;
  /** Share identical in-flight subgraph queries between requests of the same caller (default true). */
  dedupInflight?: boolean;
  /** Depth, cost, rate, subscription and introspection limits (default: DEFAULT_LIMIT_SETTINGS). */
  limits?: GatewayLimitSettings;
  /** Browser origins that may call the API (default: none, no CORS headers). */
  cors?: CorsPolicy;
  /** Trusted documents and APQ; by default beedesk's manifest (schema/persisted-operations.json). */
  persistedOperations?: PersistedOperationsSettings;
  /** Checks beside Redis for `/health/ready` (e.g. the embedded default's demo data seeded and trained). */
  readiness?: Readiness;
  /**
   * Further HTTP routes beside /graphql, /health and /metrics (e.g. the embedded default's web clients
   * and demo pages). Each handler answers true when it served the request; the first that does wins.
   */
  httpRoutes?: HttpRoute[];
}

/** An HTTP request past admission, holding its execution slot. */
interface AdmittedRequest {
  connection: AdmittedConnection;
  params: GraphQLParams;
  admitted: ScheduledOperation;
  requestId: string;
  headers: Record<string, string>;
  log: Logger;
  admissionStarted: number;
}

/** Serves one request outside GraphQL; returns false to let the next route (or the 404) answer. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

export interface PersistedOperationsSettings {
  /** The manifest to trust; null: none (e.g. a foreign supergraph). Default: beedesk's own. */
  manifestPath?: string | null;
  /** Every caller may run manifest documents only (GATEWAY_PERSISTED_ONLY). */
  requireTrusted?: boolean;
  apqTtlSeconds?: number;
  /** Registered APQs per tenant (default: DEFAULT_APQ_CAPS). */
  apqCaps?: ApqCaps;
}

export interface StartedGateway extends StartedService {
  subgraphs: { name: string; url: string }[];
}

/** Counts a result's errors on its span, and fails the span for the server's own failures (not the caller's). */
function markFailures(
  span: Span,
  errors: readonly (GraphQLError | GraphQLFormattedError)[] | undefined,
  name: string,
  tenantId: string,
): void {
  if (!errors?.length) return;
  span.setAttribute('graphql.error.count', errors.length);
  const internal = errors.find((e) => {
    const code = e.extensions?.['code'];
    return code === 'INTERNAL_SERVER_ERROR' || code === 'SERVICE_UNAVAILABLE';
  });
  if (internal) failSpan(span, internal, name, { [ATTR.tenant]: tenantId });
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** The widget-key exchange (widget/exchange.ts) and the widget's GraphQL endpoint (visitor tokens only). */
export const WIDGET_SESSION_ROUTE = '/widget/session';
export const WIDGET_GRAPHQL_ROUTE = '/widget/graphql';
const formatError = (error: GraphQLError | GraphQLFormattedError): GraphQLFormattedError =>
  'toJSON' in error && typeof error.toJSON === 'function' ? error.toJSON() : (error as GraphQLFormattedError);

/**
 * The gateway: a plain node:http server in front of @apollo/gateway's planner and executor.
 * It authenticates, parses and validates (cached), and forwards a signed tenant context.
 */
export async function startGateway(options: GatewayOptions): Promise<StartedGateway> {
  const { logger } = options;
  const agent = createSubgraphAgent();
  const metrics = createMetrics('gateway', options.defaultMetrics ?? true);
  const telemetry = createGatewayTelemetry(metrics.registry);
  const executor: FederatedExecutor = await createFederatedExecutor({
    supergraphSdl: options.supergraphSdl,
    agent,
    timeoutMs: options.subgraphTimeoutMs,
    logger,
    urlOverride: options.urlOverride,
    dedup: options.dedupInflight === false ? undefined : new InflightDeduplication(),
    // Generic mode answers subgraph HTTP failures exactly as @apollo/gateway does.
    subgraphHttpErrors: options.mode.kind === 'generic' ? 'apollo' : 'graphql',
    telemetry,
  });
  let draining = false;

  const persistedSettings = options.persistedOperations ?? {};
  const manifestPath = persistedSettings.manifestPath === undefined ? defaultManifestPath : persistedSettings.manifestPath;
  const persisted = createPersistedDocuments({
    // Validated against the supergraph now, so a stale or foreign manifest stops the gateway at start.
    trusted: manifestPath === null ? TrustedDocuments.none : loadTrustedDocuments(manifestPath, executor.schema),
    apq: new ApqStore(options.redis, options.keyPrefix, persistedSettings.apqTtlSeconds, persistedSettings.apqCaps ?? DEFAULT_APQ_CAPS),
    requireTrusted: persistedSettings.requireTrusted ?? false,
    logger,
  });
  const limits = createGatewayLimits({
    settings: options.limits ?? DEFAULT_LIMIT_SETTINGS,
    schema: executor.schema,
    supergraphSdl: options.supergraphSdl,
    redis: options.redis,
    keyPrefix: options.keyPrefix,
    logger,
    registry: metrics.registry,
  });
  const cors = options.cors ?? null;
  // Ready: the supergraph is loaded (it is, once listening) and Redis (limits, APQ, API keys) answers.
  const readiness: Readiness = async () => ({
    supergraph: 'ok',
    redis: await pingRedis(options.redis),
    ...(options.readiness ? await options.readiness() : {}),
  });
  const documents = useDocument(executor.schema, options.documents ?? DEFAULT_DOCUMENT_SETTINGS, metrics.registry);
  // The admission order (gateway/README.md): every transport runs these, in this order.
  const visitorTokens = new VisitorTokens(options.internalSecret);
  const admission = createAdmission([
    useTracing(),
    ...(options.mode.kind === 'beedesk' ? [useVisitorTokens(visitorTokens)] : []),
    useAuthentication(options.mode),
    useSignedContext(options.internalSecret),
    useRateLimit(limits),
    documents.plugin,
    usePersistedDocuments(persisted),
    useOperationLimits(limits),
    useTenantFairShare(limits),
  ]);
  const sendRefusal = (res: ServerResponse, refused: Refusal, headers: Record<string, string> = {}) =>
    sendErrors(res, refused.status, refused.errors.map(formatError), { ...headers, ...refused.headers });

  const subscriptions = createGatewaySubscriptions({
    supergraph: executor.supergraph,
    schema: executor.schema,
    subgraphs: executor.subgraphs,
    agent,
    subgraphTimeoutMs: options.subgraphTimeoutMs,
    logger,
    registry: metrics.registry,
    admission,
    tenantLeases: limits.subscriptionLeases,
    telemetry,
    socketLeases: limits.socketLeases,
    redis: options.redis,
    keyPrefix: options.keyPrefix,
    maxSubscriptionsPerConnection: limits.maxSubscriptionsPerConnection,
    onRefused: limits.countRefusal,
  });

  const widgetExchange =
    options.mode.kind === 'beedesk'
      ? createWidgetExchange({
          redis: options.redis,
          keyPrefix: options.keyPrefix,
          tokens: visitorTokens,
          takeExchange: limits.takeWidgetExchange,
          logger,
        })
      : null;

  /** `tags` gets the request's tenant and trace ids as soon as they are known, for the error log line. */
  async function handleGraphQL(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    tags: Record<string, string>,
    surface: 'api' | 'widget',
  ): Promise<void> {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : newId();
    const admissionStarted = performance.now();
    const headers = { 'x-request-id': requestId };
    // Authenticate from the headers before reading (and parsing) a body of up to MAX_BODY_BYTES.
    const connection = await admission.connect('http', credentialsOf(req, surface), requestId);
    if (!connection.ok) return sendRefusal(res, connection, headers);
    const limited = await admission.request(connection);
    if (limited) return sendRefusal(res, limited, headers);
    const { caller } = connection;
    Object.assign(tags, { tenant: caller.tenantId, traceId: requestId });
    const log = requestLogger(logger, caller.tenantId, requestId);
    const params = await readGraphQLParams(req, url, options.maxBodyBytes);
    // The client going away frees its place in its tenant's queue (useTenantFairShare).
    const clientGone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) clientGone.abort();
    });
    const admitted = await admission.operation(connection, params, { signal: clientGone.signal });
    if (!admitted.ok) return sendRefusal(res, admitted, headers);
    try {
      await executeAdmitted(req, res, { connection, params, admitted, requestId, headers, log, admissionStarted });
    } finally {
      admitted.release();
    }
  }

  /** Runs an admitted HTTP operation (or starts its SSE subscription) and answers it. */
  async function executeAdmitted(
    req: IncomingMessage,
    res: ServerResponse,
    { connection, params, admitted, requestId, headers, log, admissionStarted }: AdmittedRequest,
  ): Promise<void> {
    const { caller } = connection;
    const { document, operation, queryHash, planKey, query } = admitted;
    telemetry.phase('admission', (performance.now() - admissionStarted) / 1000);
    if (operation.operation === 'subscription') {
      if (!wantsEventStream(req)) {
        throw new HttpError(400, 'BAD_REQUEST', 'Subscriptions are served over graphql-ws or SSE (`Accept: text/event-stream`).');
      }
      const input = { document, operation, planKey, rawVariables: params.variables, documentId: persistedDocumentId(params, queryHash) };
      return subscriptions.serveSse(req, res, connection, input, headers);
    }
    if (operation.operation === 'mutation' && req.method === 'GET') {
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'Mutations must be sent with POST.', { allow: 'POST' });
    }
    const context: GatewayRequestContext = {
      signedContext: connection.signedContext(),
      requestId,
      dedupScope: JSON.stringify([caller.tenantId, caller.userId, caller.roles]),
    };
    const requestContext = {
      request: { query, operationName: params.operationName, variables: params.variables ?? {}, extensions: params.extensions },
      document,
      source: query,
      queryHash,
      operationName: operation.name?.value ?? null,
      operation,
      schema: executor.schema,
      context,
      logger: log,
      metrics: {},
      cache: undefined,
      overallCachePolicy: undefined,
    } as unknown as GatewayGraphQLRequestContext<GatewayRequestContext>;
    const executeStarted = performance.now();
    const operationSpan = startOperationSpan(
      operation,
      operationAttributes(operation, caller.tenantId, persistedDocumentId(params, queryHash)),
    );
    let result: Awaited<ReturnType<FederatedExecutor['execute']>>;
    try {
      result = await withActiveSpan(operationSpan, () => executor.execute(requestContext));
      markFailures(operationSpan, result.errors, operation.operation, caller.tenantId);
    } catch (error) {
      failSpan(operationSpan, error, operation.operation, { [ATTR.tenant]: caller.tenantId });
      telemetry.request(operationTypeOf(operation), 'error', (performance.now() - admissionStarted) / 1000, caller.tenantId);
      throw error;
    } finally {
      operationSpan.end();
      telemetry.phase('execute', (performance.now() - executeStarted) / 1000);
    }
    if (isSilentlyNulled(result)) result = { ...result, errors: [silentlyNulledError()] };
    const failed = Boolean(result.errors?.length);
    telemetry.request(operationTypeOf(operation), failed ? 'error' : 'ok', (performance.now() - admissionStarted) / 1000, caller.tenantId);
    const body: Record<string, unknown> = {};
    if (result.errors?.length) body['errors'] = withCodes(result.errors, 'data' in result, log).map(formatError);
    if ('data' in result) body['data'] = result.data;
    if (result.extensions) body['extensions'] = result.extensions;
    sendJson(res, requestErrorResults.has(result) ? 400 : 200, body, headers);
  }

  const server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway');
    } catch {
      return sendErrors(res, 400, [errorBody('BAD_REQUEST', 'The request URL is malformed.')]);
    }
    const route = url.pathname;
    const label = routeLabel(route);
    const stopTimer = metrics.requestSeconds.startTimer({ route: label });
    res.on('finish', () => {
      stopTimer();
      metrics.requests.inc({ route: label, status: String(res.statusCode) });
    });
    if (serveHealthRoute(route, res, readiness, () => draining)) return;
    if (route === '/metrics') return void serveMetrics(res, metrics);
    if (route === WIDGET_SESSION_ROUTE && widgetExchange) return widgetExchange(req, res);
    const surface = route === WIDGET_GRAPHQL_ROUTE && widgetExchange ? 'widget' : 'api';
    if (surface === 'api' && route !== '/graphql' && options.httpRoutes?.some((serve) => serve(req, res, url))) return;
    if (surface === 'api' && route !== '/graphql') {
      return sendErrors(res, 404, [errorBody('NOT_FOUND', 'Not found: GraphQL is served on /graphql.')]);
    }
    if (surface === 'widget' ? handleWidgetCors(req, res) : handleCors(req, res, cors)) return;
    const tags: Record<string, string> = {};
    const handled = tracingEnabled()
      ? withContext(traceHttpRequest(req, res, route), () => handleGraphQL(req, res, url, tags, surface))
      : handleGraphQL(req, res, url, tags, surface);
    handled.catch((error: unknown) => {
      if (error instanceof HttpError) return sendErrors(res, error.status, [errorBody(error.code, error.message)], error.headers);
      logger.error({ err: error, ...tags }, 'gateway request failed');
      if (!res.headersSent) sendErrors(res, 500, [errorBody('INTERNAL_SERVER_ERROR', 'Unexpected error.')]);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  subscriptions.attach(server);
  const port = await listen(server, options.port, options.host);
  logger.info({ port, subgraphs: executor.subgraphs }, 'gateway ready');

  return {
    port,
    subgraphs: executor.subgraphs,
    close: async () => {
      draining = true;
      // Open subscriptions complete first (closeServer does not wait for upgraded sockets).
      await subscriptions.close();
      limits.close();
      // Requests still running 5 s after subscriptions ended are cut: a rolling restart under steady load
      // otherwise waited 20 s on connections that never sent a request.
      await closeServer(server, { graceMs: 5_000 });
      await executor.stop();
      await agent.close();
    },
  };
}
