import { CONTEXT_HEADER } from '@beedesk/runtime';
import type { FetchNode } from '@apollo/query-planner';
import type { ExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { codedGraphQLError, toGraphQLError, upstreamEnded } from './errors';

export interface UpstreamSink {
  next(result: ExecutionResult): void;
  /** The stream failed: coded errors to pass on to the client. */
  error(errors: GraphQLError[]): void;
  complete(): void;
}

const toWsUrl = (httpUrl: string): string => httpUrl.replace(/^http/, 'ws');

function describeClose(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error) {
    const { code, reason } = error as { code: unknown; reason?: unknown };
    return `connection closed ${String(code)}${reason ? `: ${String(reason)}` : ''}`;
  }
  return error instanceof Error ? error.message : 'connection failed';
}

const isFormattedErrors = (value: unknown): value is GraphQLFormattedError[] =>
  Array.isArray(value) && value.every((e) => e && typeof e === 'object' && 'message' in e);

/**
 * One client connection's upstream side: a graphql-ws client per subgraph, opened on first use
 * (so all of a connection's subscriptions to a subgraph share one socket) and closed as soon as
 * its last subscription ends. The caller's signed context travels in connectionParams. Clients
 * never reconnect on their own: pub/sub replays nothing, so a silent resubscribe would hide lost
 * events; the client's subscription ends with SERVICE_UNAVAILABLE and the client resubscribes.
 */
export class UpstreamConnection {
  private readonly clients = new Map<string, Client>();

  constructor(
    private readonly urlOf: (service: string) => string | undefined,
    /** Signs the caller's context afresh for each (re)connect: the signature lives 300 s. */
    private readonly signedContext: () => string,
  ) {}

  /** Subscribes `fetch` on its subgraph; returns the function that ends it (idempotent). */
  subscribe(fetch: FetchNode, variables: Record<string, unknown>, sink: UpstreamSink): () => void {
    const service = fetch.serviceName;
    const client = this.clientOf(service);
    if (!client) {
      sink.error([codedGraphQLError('SERVICE_UNAVAILABLE', `No URL for subgraph ${service}.`)]);
      return () => undefined;
    }
    let ended = false;
    const unsubscribe = client.subscribe(
      { query: fetch.operation, operationName: fetch.operationName, variables },
      {
        next: (result) => {
          if (!ended) sink.next(result as ExecutionResult);
        },
        error: (error: unknown) => {
          if (ended) return;
          ended = true;
          // A graphql-ws `error` message carries GraphQL errors (with their codes); anything else is the socket.
          sink.error(isFormattedErrors(error) ? error.map(toGraphQLError) : [upstreamEnded(service, describeClose(error))]);
        },
        complete: () => {
          if (ended) return;
          ended = true;
          sink.complete();
        },
      },
    );
    return () => {
      if (ended) return;
      ended = true;
      unsubscribe();
    };
  }

  /** Closes every upstream socket (their subscriptions end at the subgraph at once). */
  async dispose(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((client) => client.dispose()));
  }

  private clientOf(service: string): Client | undefined {
    let client = this.clients.get(service);
    if (client) return client;
    const url = this.urlOf(service);
    if (!url) return undefined;
    client = createClient({
      url: toWsUrl(url),
      webSocketImpl: WebSocket,
      connectionParams: () => ({ [CONTEXT_HEADER]: this.signedContext() }),
      lazy: true,
      lazyCloseTimeout: 0,
      retryAttempts: 0,
      shouldRetry: () => false,
      keepAlive: 15_000,
    });
    this.clients.set(service, client);
    return client;
  }
}
