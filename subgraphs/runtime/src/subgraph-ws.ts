import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  createSourceEventStream,
  execute,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { TRACEPARENT_FIELD } from './live/bus';
import type { SubscriptionGauge } from './subscription-gauge';
import type { Caller } from './caller';
import type { BaseContext, RequestContexts } from './request-context';
import { CONTEXT_HEADER } from './signed-context';

export interface SubgraphWsOptions<TContext extends BaseContext> {
  server: Server;
  schema: GraphQLSchema;
  /** Verification, context and masking: the same path as the HTTP transport's. */
  contexts: RequestContexts<TContext>;
  gauge: SubscriptionGauge;
}

export interface SubgraphWs {
  /** Ends every subscription (close 1001) and stops accepting new sockets. */
  close(): Promise<void>;
  /** WebSockets open now (for a close that takes long to say what it waits for). */
  readonly openSockets: number;
}

type Extra = { caller?: Caller };

/**
 * The publisher's `traceparent` of a live event, as `extensions.traceparent` of its result: the
 * gateway's span for delivering the event joins the trace of the answer that produced it (and
 * removes the extension before the client sees the result).
 */
function withTraceparent(result: ExecutionResult, payload: unknown): ExecutionResult {
  const traceparent = (payload as Record<string, unknown> | null)?.[TRACEPARENT_FIELD];
  return typeof traceparent === 'string' ? { ...result, extensions: { ...result.extensions, traceparent } } : result;
}

/** `source` mapped through `map`, one event at a time; return() ends the source at once (as graphql-js' mapAsyncIterator). */
function mapEvents<T, R>(source: AsyncIterator<T>, map: (value: T) => Promise<R>): AsyncIterableIterator<R> {
  const iterator: AsyncIterableIterator<R> = {
    async next(): Promise<IteratorResult<R>> {
      const step = await source.next();
      return step.done ? { done: true, value: undefined } : { done: false, value: await map(step.value) };
    },
    async return(): Promise<IteratorResult<R>> {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * graphql-ws (`graphql-transport-ws`) on the subgraph's `/graphql`, for the gateway's upstream
 * subscriptions. The gateway sends the caller's signed tenant context as
 * `connectionParams["x-beedesk-context"]`; it is verified once (request-context.ts, as over HTTP) at connection_init (its 300 s TTL
 * bounds how late a connection may start, not how long it may stream: the gateway ends client
 * subscriptions when the caller's token expires). A connection without a valid one is closed 4401.
 */
export function attachSubgraphWs<TContext extends BaseContext>(options: SubgraphWsOptions<TContext>): SubgraphWs {
  let draining = false;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  options.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/graphql' || draining) {
      // Destroyed once written: a half-closed socket would keep the HTTP server's close() waiting on the peer.
      socket.end(
        `HTTP/1.1 ${draining ? '503 Service Unavailable' : '404 Not Found'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
        () => socket.destroy(),
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const mask = (result: ExecutionResult, args: ExecutionArgs): ExecutionResult => options.contexts.maskResult(result, args.contextValue);

  const ws = useServer<Record<string, unknown>, Extra>(
    {
      onConnect: (ctx) => {
        const verified = options.contexts.verify(ctx.connectionParams?.[CONTEXT_HEADER]);
        if (!verified.ok) {
          ctx.extra.socket.close(CloseCode.Unauthorized, verified.message.slice(0, 120));
          return false;
        }
        ctx.extra.caller = verified.caller;
        return true;
      },
      onSubscribe: (ctx, _id, payload) => {
        const caller = ctx.extra.caller!;
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(options.schema, document);
        if (errors.length > 0) return errors;
        const args: ExecutionArgs = {
          schema: options.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: options.contexts.contextFor(caller),
        };
        return args;
      },
      subscribe: async (args) => {
        // graphql-js' subscribe(), with each event's trace context passed on in the result's extensions.
        const source = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in source)) return mask(source, args);
        return options.gauge.count(
          mapEvents(source[Symbol.asyncIterator](), async (payload) =>
            withTraceparent(await execute({ ...args, rootValue: payload }), payload),
          ),
        );
      },
      execute: async (args) => mask(await execute(args), args),
      onNext: (_ctx, _id, _payload, args, result) => {
        const masked = mask(result, args);
        return masked === result ? undefined : { ...masked, errors: masked.errors?.map((e) => e.toJSON()) };
      },
    },
    wss,
  );

  return {
    get openSockets() {
      return wss.clients.size;
    },
    close: async () => {
      draining = true;
      await ws.dispose();
    },
  };
}
