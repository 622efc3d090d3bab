import type { Server } from 'node:http';
import type { Redis } from '@beedesk/runtime';
import type { GraphQLSchema } from 'graphql';
import { persistedDocumentId, type Admission, type AdmittedConnection } from '../pipeline';
import { checkParams, type GraphQLParams } from '../graphql-request';
import type { UserSocketLeases } from '../limits';
import { createCredentialsWatch } from './credentials-watch';
import { codedGraphQLError } from './errors';
import { attachGraphQLWs } from './graphql-ws';
import type { Prepared } from './protocol';
import { createSubscriptionService, type SubscriptionServiceOptions } from './service';
import { createSseHandler, wantsEventStream } from './sse';

export { CloseCodes } from './errors';
export { wantsEventStream };
export type { SubscriptionDocument } from './service';

export interface GatewaySubscriptionsOptions extends Omit<SubscriptionServiceOptions, 'maxBuffered'> {
  admission: Admission;
  /** Events waiting per client subscription before it is dropped (default 1000). */
  maxBufferedEvents?: number;
  /** Bytes waiting per client socket before it is dropped (default 4 MiB). */
  maxSocketBufferBytes?: number;
  /** Open graphql-ws sockets per user over every replica; absent: no limit. */
  socketLeases?: UserSocketLeases;
  /** Where credential changes are announced (revoked API keys, erased tenants): the tenant subgraph's Redis and prefix. */
  redis: Redis;
  keyPrefix: string;
}

/**
 * Federated subscriptions at the gateway: graphql-ws on /graphql (WebSocket upgrade) and GraphQL
 * over SSE on /graphql (`Accept: text/event-stream`), both over one subscription service.
 */
export function createGatewaySubscriptions(options: GatewaySubscriptionsOptions) {
  const maxSocketBufferBytes = options.maxSocketBufferBytes ?? 4 * 1024 * 1024;
  const service = createSubscriptionService({ ...options, maxBuffered: options.maxBufferedEvents ?? 1000 });
  const schema: GraphQLSchema = options.schema;
  const credentialsWatch = createCredentialsWatch({
    redis: options.redis,
    keyPrefix: options.keyPrefix,
    admission: options.admission,
    logger: options.logger,
  });

  /** graphql-ws `subscribe` payloads: admitted by the same pipeline as HTTP requests; only subscriptions are served here. */
  async function prepare(connection: AdmittedConnection, payload: Record<string, unknown>, signal?: AbortSignal): Promise<Prepared> {
    let params: GraphQLParams;
    try {
      // The same checks as HTTP: `query` may be empty when `documentId` or `extensions.persistedQuery` names the document.
      params = checkParams(payload);
    } catch (error) {
      return { ok: false, errors: [codedGraphQLError('BAD_REQUEST', (error as Error).message)] };
    }
    const { variables } = params;
    // Every subscribe is one request for the rate limits, counted before its document is looked at.
    const limited = await options.admission.request(connection);
    if (limited) return limited;
    const selected = await options.admission.operation(connection, params, { signal });
    if (!selected.ok) return selected;
    // A subscribe holds no execution slot past its turn (useTenantFairShare); a query or mutation
    // sent here is refused below and never executes.
    selected.release();
    const { document, operation, planKey, queryHash } = selected;
    if (operation.operation !== 'subscription') {
      return {
        ok: false,
        errors: [codedGraphQLError('BAD_REQUEST', 'Only subscriptions are served over graphql-ws; send queries and mutations over HTTP.')],
      };
    }
    return {
      ok: true,
      schema,
      input: { document, operation, planKey, rawVariables: variables, documentId: persistedDocumentId(params, queryHash) },
    };
  }

  const serveSse = createSseHandler({ service, logger: options.logger, maxSocketBufferBytes, credentialsWatch });
  let ws: { close(): Promise<void> } | null = null;

  return {
    service,
    serveSse,
    /** Takes WebSocket upgrades on `path` of `server`. */
    attach(server: Server, path = '/graphql'): void {
      ws = attachGraphQLWs({
        server,
        path,
        service,
        admission: options.admission,
        prepare,
        logger: options.logger,
        maxSocketBufferBytes,
        socketLeases: options.socketLeases,
        credentialsWatch,
        onRefused: options.onRefused,
      });
    },
    /** Completes every open subscription, then closes the sockets. */
    async close(): Promise<void> {
      await service.close();
      await ws?.close();
      await credentialsWatch.close();
    },
  };
}
export type GatewaySubscriptions = ReturnType<typeof createGatewaySubscriptions>;
