import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { selectOperation, type DocumentCache } from '../documents';
import { codedGraphQLError } from './errors';
import { attachGraphQLWs } from './graphql-ws';
import type { ConnectionAuth, Prepared } from './protocol';
import { createSubscriptionService, type SubscriptionServiceOptions } from './service';
import { createSseHandler, wantsEventStream } from './sse';

export { CloseCodes } from './errors';
export { wantsEventStream };
export type { SubscriptionDocument } from './service';

export interface GatewaySubscriptionsOptions extends Omit<SubscriptionServiceOptions, 'maxBuffered'> {
  documents: DocumentCache;
  authenticate: ConnectionAuth;
  /** Events waiting per client subscription before it is dropped (default 1000). */
  maxBufferedEvents?: number;
  /** Bytes waiting per client socket before it is dropped (default 4 MiB). */
  maxSocketBufferBytes?: number;
}

/**
 * Federated subscriptions at the gateway: graphql-ws on /graphql (WebSocket upgrade) and GraphQL
 * over SSE on /graphql (`Accept: text/event-stream`), both over one subscription service.
 */
export function createGatewaySubscriptions(options: GatewaySubscriptionsOptions) {
  const maxSocketBufferBytes = options.maxSocketBufferBytes ?? 4 * 1024 * 1024;
  const service = createSubscriptionService({ ...options, maxBuffered: options.maxBufferedEvents ?? 1000 });
  const schema: GraphQLSchema = options.schema;

  function prepare(query: unknown, operationName: string | undefined, variables: Record<string, unknown> | undefined): Prepared {
    if (typeof query !== 'string' || query.trim() === '') return { ok: false, errors: [codedGraphQLError('BAD_REQUEST', 'A `query` string is required.')] };
    const selected = selectOperation(options.documents, query, operationName);
    if (!selected.ok) return selected;
    const { document, operation, planKey } = selected;
    if (operation.operation !== 'subscription') {
      return { ok: false, errors: [codedGraphQLError('BAD_REQUEST', 'Only subscriptions are served over graphql-ws; send queries and mutations over HTTP.')] };
    }
    return { ok: true, schema, input: { document, operation, planKey, rawVariables: variables } };
  }

  const serveSse = createSseHandler({ service, logger: options.logger, maxSocketBufferBytes });
  let ws: { close(): Promise<void> } | null = null;

  return {
    service,
    serveSse,
    /** Takes WebSocket upgrades on `path` of `server`. */
    attach(server: Server, path = '/graphql'): void {
      ws = attachGraphQLWs({ server, path, service, authenticate: options.authenticate, prepare, logger: options.logger, maxSocketBufferBytes });
    },
    /** Completes every open subscription, then closes the sockets. */
    async close(): Promise<void> {
      await service.close();
      await ws?.close();
    },
  };
}
export type GatewaySubscriptions = ReturnType<typeof createGatewaySubscriptions>;
