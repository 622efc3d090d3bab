import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import {
  activeSpan,
  ATTR,
  CONTEXT_HEADER,
  failSpan,
  injectTraceContext,
  SpanKind,
  tracer,
  tracingEnabled,
  withActiveSpan,
} from '@beedesk/runtime';
import { STATUS_CODES } from 'node:http';
import { GraphQLError } from 'graphql';
import { Agent, request } from 'undici';
import { NO_TELEMETRY, type FetchOutcome, type GatewayTelemetry } from './telemetry';

export type SubgraphHttpErrors = 'graphql' | 'apollo';

/** What the gateway puts into @apollo/gateway's per-request context. */
export interface GatewayRequestContext {
  /** The caller's tenant context, already signed for subgraphs. */
  signedContext: string;
  requestId: string;
  /**
   * Who the subgraphs will see: the identity the signed context carries (tenant, user, roles),
   * without its per-request parts (request id, expiry). Identical query fetches are shared only
   * between requests with the same scope; without one, a request shares nothing.
   */
  dedupScope?: string;
}

/** A subgraph's answer before parsing: what concurrent identical fetches share. */
interface RawResponse {
  statusCode: number;
  json: boolean;
  text: string;
}

/**
 * In-flight deduplication of identical subgraph queries (Hive Gateway does the same by default):
 * while a fetch is on its way, an identical one (same subgraph URL, same caller scope, same body)
 * waits for it instead of sending its own, then parses the same response text into its own
 * objects (the plan executor merges into them, so nothing is shared after parsing). Only fetches
 * of query operations take part; a mutation's fetches (also its entity fetches) always go out.
 * Nothing is kept once the response has arrived: this is not a cache.
 */
export class InflightDeduplication {
  private readonly inflight = new Map<string, Promise<RawResponse>>();
  /** Fetches answered by another request's fetch (for metrics and tests). */
  shared = 0;

  run(key: string, send: () => Promise<RawResponse>): Promise<RawResponse> {
    const pending = this.inflight.get(key);
    if (pending) {
      this.shared++;
      return pending;
    }
    const started = send().finally(() => this.inflight.delete(key));
    this.inflight.set(key, started);
    return started;
  }

  get size(): number {
    return this.inflight.size;
  }

  /** Whether a fetch under `key` is on its way now (the next run with it shares it). */
  has(key: string): boolean {
    return this.inflight.has(key);
  }
}

/**
 * Sends subgraph fetches over a shared undici keep-alive pool, with the caller's signed context.
 * Written against @apollo/gateway's GraphQLDataSource interface instead of RemoteGraphQLDataSource,
 * which builds node-fetch Request/Headers objects on every fetch.
 */
export class SubgraphDataSource implements GraphQLDataSource<GatewayRequestContext> {
  constructor(
    readonly name: string,
    readonly url: string,
    private readonly agent: Agent,
    private readonly timeoutMs: number,
    private readonly dedup?: InflightDeduplication,
    /**
     * What a subgraph's non-2xx answer becomes. `graphql` (beedesk): its GraphQL errors, codes kept
     * (a subgraph refusing the signed context answers 401 with UNAUTHENTICATED). `apollo` (generic
     * mode): exactly what @apollo/gateway's RemoteGraphQLDataSource makes of it, one error
     * `<status>: <status text>` with the response (url, status, statusText, body) in its extensions.
     */
    private readonly httpErrors: SubgraphHttpErrors = 'graphql',
    /** Fetch durations and errors (`/metrics`). */
    private readonly telemetry: GatewayTelemetry = NO_TELEMETRY,
  ) {}

  /**
   * One subgraph fetch: a CLIENT span (`fetch <subgraph>`, trace context sent in `traceparent`) and
   * its duration and outcome in the metrics.
   */
  async process(options: GraphQLDataSourceProcessOptions<GatewayRequestContext>): Promise<GatewayGraphQLResponse> {
    const started = performance.now();
    let outcome: FetchOutcome = 'network_error';
    if (!tracingEnabled()) {
      try {
        const result = await this.fetch(options);
        outcome = result.errors?.length ? 'graphql_error' : 'ok';
        return result;
      } catch (error) {
        outcome = error instanceof SubgraphHttpError || error instanceof GraphQLError ? 'http_error' : 'network_error';
        throw error;
      } finally {
        this.telemetry.fetch(this.name, (performance.now() - started) / 1000, outcome);
      }
    }
    const name = `fetch ${this.name}`;
    const url = new URL(this.url);
    const span = tracer('@beedesk/gateway').startSpan(name, {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': 'POST',
        'server.address': url.hostname,
        'server.port': Number(url.port || 80),
        'url.full': this.url,
        'beedesk.subgraph.name': this.name,
      },
    });
    try {
      const result = await withActiveSpan(span, () => this.fetch(options));
      outcome = result.errors?.length ? 'graphql_error' : 'ok';
      if (result.errors?.length) span.setAttribute('graphql.error.count', result.errors.length);
      return result;
    } catch (error) {
      outcome = error instanceof SubgraphHttpError || error instanceof GraphQLError ? 'http_error' : 'network_error';
      failSpan(span, error, name);
      throw error;
    } finally {
      span.end();
      this.telemetry.fetch(this.name, (performance.now() - started) / 1000, outcome);
    }
  }

  private async fetch(options: GraphQLDataSourceProcessOptions<GatewayRequestContext>): Promise<GatewayGraphQLResponse> {
    const { request: graphqlRequest, context } = options;
    const body = JSON.stringify({
      query: graphqlRequest.query,
      variables: graphqlRequest.variables,
      operationName: graphqlRequest.operationName,
    });
    const signedContext = context.signedContext ?? '';
    const requestId = context.requestId ?? '';
    const send = () => this.send(body, signedContext, requestId);
    const scope = context.dedupScope;
    let raw: RawResponse;
    if (this.dedup && scope !== undefined && isQueryFetch(options)) {
      const key = `${this.url}\n${scope}\n${body}`;
      // A shared fetch carries the trace context of the request that sent it; this span says so.
      if (this.dedup.has(key)) activeSpanSetShared();
      raw = await this.dedup.run(key, send);
    } else {
      raw = await send();
    }
    if (this.httpErrors === 'apollo' && (raw.statusCode < 200 || raw.statusCode >= 300)) throw this.apolloHttpError(raw);
    if (raw.json) {
      // Subgraph errors (also on 4xx, e.g. a refused context) keep their codes for the client.
      let result: unknown;
      try {
        result = JSON.parse(raw.text);
      } catch {
        result = undefined;
      }
      if (result && typeof result === 'object' && ('data' in result || 'errors' in result)) return result as GatewayGraphQLResponse;
    }
    throw new SubgraphHttpError(`subgraph ${this.name} answered HTTP ${raw.statusCode} without a GraphQL result`);
  }

  private apolloHttpError(raw: RawResponse): GraphQLError {
    let body: unknown = raw.text;
    if (raw.json) {
      try {
        body = JSON.parse(raw.text);
      } catch {
        // the text, as Apollo keeps it
      }
    }
    const statusText = STATUS_CODES[raw.statusCode] ?? '';
    const extensions: Record<string, unknown> = { response: { url: this.url, status: raw.statusCode, statusText, body } };
    if (raw.statusCode === 401) extensions['code'] = 'UNAUTHENTICATED';
    else if (raw.statusCode === 403) extensions['code'] = 'FORBIDDEN';
    return new GraphQLError(`${raw.statusCode}: ${statusText}`, { extensions });
  }

  private async send(body: string, signedContext: string, requestId: string): Promise<RawResponse> {
    const response = await request(this.url, {
      method: 'POST',
      dispatcher: this.agent,
      headers: {
        'content-type': 'application/json',
        accept: this.httpErrors === 'apollo' ? 'application/json' : 'application/graphql-response+json, application/json',
        [CONTEXT_HEADER]: signedContext,
        'x-request-id': requestId,
        ...injectTraceContext({}),
      },
      body,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const contentType = String(response.headers['content-type'] ?? '');
    if (contentType.includes('json') || this.httpErrors === 'apollo') {
      return { statusCode: response.statusCode, json: contentType.includes('json'), text: await response.body.text() };
    }
    await response.body.dump();
    return { statusCode: response.statusCode, json: false, text: '' };
  }
}

/** A subgraph's answer that is no GraphQL result. */
class SubgraphHttpError extends Error {}

function activeSpanSetShared(): void {
  activeSpan()?.setAttribute(ATTR.shared, true);
}

/** A fetch of an incoming query (never of a mutation, also not a mutation's entity fetches). */
function isQueryFetch(options: GraphQLDataSourceProcessOptions<GatewayRequestContext>): boolean {
  if (!('incomingRequestContext' in options)) return false;
  const operation = options.incomingRequestContext.operation as { operation?: string } | undefined;
  return operation?.operation === 'query' && /^\s*(query\b|\{)/.test(options.request.query ?? '');
}

export function createSubgraphAgent(): Agent {
  return new Agent({ connections: 128, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, pipelining: 1 });
}
