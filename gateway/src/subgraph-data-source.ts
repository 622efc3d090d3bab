import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { CONTEXT_HEADER } from '@beedesk/runtime';
import { Agent, request } from 'undici';

/** What the gateway puts into @apollo/gateway's per-request context. */
export interface GatewayRequestContext {
  /** The caller's tenant context, already signed for subgraphs. */
  signedContext: string;
  requestId: string;
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
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<GatewayRequestContext>): Promise<GatewayGraphQLResponse> {
    const { request: graphqlRequest, context } = options;
    const body = JSON.stringify({
      query: graphqlRequest.query,
      variables: graphqlRequest.variables,
      operationName: graphqlRequest.operationName,
    });
    const response = await request(this.url, {
      method: 'POST',
      dispatcher: this.agent,
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        [CONTEXT_HEADER]: context.signedContext ?? '',
        'x-request-id': context.requestId ?? '',
      },
      body,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const contentType = String(response.headers['content-type'] ?? '');
    if (contentType.includes('json')) {
      // Subgraph errors (also on 4xx, e.g. a refused context) keep their codes for the client.
      const result = (await response.body.json()) as GatewayGraphQLResponse;
      if (result && typeof result === 'object' && ('data' in result || 'errors' in result)) return result;
    } else {
      await response.body.dump();
    }
    throw new Error(`subgraph ${this.name} answered HTTP ${response.statusCode} without a GraphQL result`);
  }
}

export function createSubgraphAgent(): Agent {
  return new Agent({ connections: 128, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, pipelining: 1 });
}
