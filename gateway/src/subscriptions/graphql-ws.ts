import type { IncomingMessage, Server } from 'node:http';
import { setMaxListeners } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Logger } from '@beedesk/runtime';
import { GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCodes } from './errors';
import { armExpiry } from './expiry';
import { newId } from '@beedesk/runtime';
import type { Credentials } from '../caller';
import type { UserSocketLeases } from '../limits';
import type { Admission, AdmittedConnection } from '../pipeline';
import type { CredentialsWatch } from './credentials-watch';
import type { Prepared } from './protocol';
import type { SubscriberConnection, SubscriptionDocument, SubscriptionService } from './service';

export interface GraphQLWsOptions {
  server: Server;
  path: string;
  service: SubscriptionService;
  /** connectionParams.authorization ("Bearer <jwt>") or connectionParams.apiKey → the caller. */
  admission: Admission;
  /** Only subscriptions are served here; queries and mutations go over HTTP. */
  prepare: (connection: AdmittedConnection, payload: Record<string, unknown>, signal?: AbortSignal) => Promise<Prepared>;
  logger: Logger;
  /** Bytes a socket may have queued for sending before the client counts as too slow. */
  maxSocketBufferBytes: number;
  /** Open sockets per user over every replica; absent: no limit. */
  socketLeases?: UserSocketLeases;
  /** Ends sockets whose credentials were revoked. */
  credentialsWatch?: CredentialsWatch;
  /** Told the code of every socket a limit refused (metrics). */
  onRefused?: (code: string) => void;
}

type Extra = {
  connection?: SubscriberConnection;
  admitted?: AdmittedConnection;
  expiry?: NodeJS.Timeout;
  /** Aborted when the socket closes: a subscribe waiting for its turn stops waiting. */
  closed?: AbortController;
};
/** What the `context` option hands to `subscribe`. */
type SocketContext = { connection?: SubscriberConnection; socket: WebSocket };

/**
 * graphql-ws (`graphql-transport-ws`) on the gateway's /graphql. The caller authenticates once per
 * connection (connectionParams.authorization); a bad token closes 4401, and when the token expires
 * the socket closes 4401, ending its subscriptions; so does a revoked API key or an erased tenant
 * (credentials-watch.ts). A user past their open sockets (idle ones too) is closed 4430 at
 * connection_init; a socket's place is freed however it closes (the 12 s ping ends dead ones).
 * A client that reads too slowly is closed 1008.
 */
export function attachGraphQLWs(options: GraphQLWsOptions): { close(): Promise<void> } {
  const { service, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '/').split('?')[0] !== options.path || service.draining) {
      socket.end(
        `HTTP/1.1 ${service.draining ? '503 Service Unavailable' : '404 Not Found'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  options.server.on('upgrade', onUpgrade);

  const server = useServer<Record<string, unknown>, Extra>(
    {
      connectionInitWaitTimeout: 5_000,
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        const param = (name: string) =>
          typeof ctx.connectionParams?.[name] === 'string' ? (ctx.connectionParams[name] as string) : undefined;
        const origin = ctx.extra.request.headers.origin;
        const credentials: Credentials = {
          authorization: param('authorization'),
          apiKey: param('apiKey'),
          origin: typeof origin === 'string' ? origin : undefined,
        };
        const auth = await options.admission.connect('graphql-ws', credentials, newId());
        if (!auth.ok) {
          socket.close(CloseCodes.UNAUTHORIZED, `Unauthorized: ${auth.errors[0]?.message ?? ''}`.slice(0, 120));
          return false;
        }
        if (options.socketLeases && auth.credential.kind !== 'anonymous') {
          const leased = await options.socketLeases.acquire(auth.caller.tenantId, auth.caller.userId);
          if (!leased.ok) {
            options.onRefused?.('CONNECTION_LIMIT_REACHED');
            socket.close(
              CloseCodes.TOO_MANY_CONNECTIONS,
              `Too many connections: you have ${leased.limit} WebSockets open, the most allowed`,
            );
            return false;
          }
          // However the socket ends (client, server, network, ping timeout): its place is freed.
          socket.once('close', () => leased.lease.release());
          if (socket.readyState === socket.CLOSED) leased.lease.release();
        }
        // The client may have gone while the token was being checked: its onClose already ran.
        if (socket.readyState !== socket.OPEN) return false;
        if (options.credentialsWatch) {
          const unwatch = options.credentialsWatch.watch({
            authentication: auth,
            credentials,
            end: (reason) => socket.close(CloseCodes.UNAUTHORIZED, `Unauthorized: ${reason}`.slice(0, 120)),
          });
          socket.once('close', unwatch);
        }
        const closed = new AbortController();
        // Every subscribe waiting for its turn listens on it (up to the per-connection cap): no leak warning.
        setMaxListeners(0, closed.signal);
        socket.once('close', () => closed.abort());
        ctx.extra.closed = closed;
        ctx.extra.admitted = auth;
        ctx.extra.connection = service.connect(auth);
        if (auth.expiresAt !== null) {
          armExpiry(
            auth.expiresAt,
            () => socket.close(CloseCodes.UNAUTHORIZED, 'Unauthorized: the token has expired'),
            (timer) => (ctx.extra.expiry = timer),
          );
        }
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        if (!ctx.extra.admitted)
          return [new GraphQLError('Subscribe before connection_init.', { extensions: { code: 'UNAUTHENTICATED' } })];
        const prepared = await options.prepare(ctx.extra.admitted, payload as unknown as Record<string, unknown>, ctx.extra.closed?.signal);
        if (!prepared.ok) return prepared.errors;
        // graphql-ws decides subscribe vs execute from the document; the rest travels in rootValue.
        const args: ExecutionArgs = {
          schema: prepared.schema,
          document: prepared.input.document,
          operationName: payload.operationName,
          rootValue: prepared.input,
        };
        return args;
      },
      subscribe: (args) => {
        const { connection, socket } = args.contextValue as SocketContext;
        if (!connection) throw new Error('subscribe before connection_init');
        const subscription = service.subscribe(connection, args.rootValue as SubscriptionDocument, () =>
          socket.close(CloseCodes.SLOW_CONSUMER, 'Slow consumer: too many events waiting'),
        );
        return subscription as Promise<AsyncGenerator<ExecutionResult> | ExecutionResult>;
      },
      context: (ctx): SocketContext => ({ connection: ctx.extra.connection, socket: ctx.extra.socket }),
      onNext: (ctx) => {
        // Backpressure by bytes as well as by events: a socket that stopped reading is dropped.
        const socket = ctx.extra.socket;
        if (socket.bufferedAmount > options.maxSocketBufferBytes) socket.close(CloseCodes.SLOW_CONSUMER, 'Slow consumer: send buffer full');
        return undefined;
      },
      onClose: async (ctx) => {
        if (ctx.extra.expiry) clearTimeout(ctx.extra.expiry);
        if (ctx.extra.connection) await service.disconnect(ctx.extra.connection);
      },
    },
    wss,
  );

  return {
    close: async () => {
      // The service has completed every subscription already; now say goodbye to the sockets.
      options.server.off('upgrade', onUpgrade);
      for (const socket of wss.clients) socket.close(CloseCodes.GOING_AWAY, 'The gateway is shutting down');
      try {
        await server.dispose();
      } catch (error) {
        logger.warn({ err: error }, 'closing the WebSocket server failed');
      }
    },
  };
}
