import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestLogger, type Logger } from '@beedesk/runtime';
import type { ExecutionResult, GraphQLError } from 'graphql';
import { credentialsOf } from '../caller';
import type { CredentialsWatch } from './credentials-watch';
import { credentialsRevoked, slowConsumer, tokenExpired } from './errors';
import { armExpiry } from './expiry';
import type { AdmittedConnection } from '../pipeline';
import type { SubscriptionDocument, SubscriptionService } from './service';

export interface SseOptions {
  service: SubscriptionService;
  logger: Logger;
  /** Bytes the response may have queued before the client counts as too slow. */
  maxSocketBufferBytes: number;
  keepAliveMs?: number;
  /** Ends streams whose credentials were revoked. */
  credentialsWatch?: CredentialsWatch;
}

/** True when the client asked for GraphQL over SSE (`Accept: text/event-stream`). */
export const wantsEventStream = (req: IncomingMessage): boolean => String(req.headers.accept ?? '').includes('text/event-stream');

const formatResult = (result: ExecutionResult) => ({
  ...(result.errors ? { errors: result.errors.map((e: GraphQLError) => e.toJSON()) } : {}),
  ...(result.data !== undefined ? { data: result.data } : {}),
  ...(result.extensions ? { extensions: result.extensions } : {}),
});

/**
 * GraphQL over SSE, distinct-connections mode: one subscription per request, each result an
 * `event: next`, the end an `event: complete`. Errors before the stream (authentication,
 * validation) are plain HTTP answers from the caller; everything after travels as events. When
 * the token expires, the API key is revoked or the tenant erased, the stream gets a final
 * UNAUTHENTICATED result and completes.
 */
export function createSseHandler(options: SseOptions) {
  const keepAliveMs = options.keepAliveMs ?? 12_000;

  return async function serveSse(
    req: IncomingMessage,
    res: ServerResponse,
    admitted: AdmittedConnection,
    input: SubscriptionDocument,
    headers: Record<string, string> = {},
  ): Promise<void> {
    const { caller, expiresAt } = admitted;
    const connection = options.service.connect(admitted);
    let ended = false;
    const write = (event: 'next' | 'complete', data: unknown) => {
      if (ended || res.destroyed) return;
      res.write(`event: ${event}\ndata: ${data === undefined ? '' : JSON.stringify(data)}\n\n`);
    };
    const finish = () => {
      if (ended) return;
      write('complete', undefined);
      ended = true;
      res.end();
    };

    const result = await options.service.subscribe(connection, input, () => undefined);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    });
    res.flushHeaders();
    if (!(Symbol.asyncIterator in result)) {
      write('next', formatResult(result));
      finish();
      await options.service.disconnect(connection);
      return;
    }

    const subscription = result;
    const stop = () => void subscription.return();
    const keepAlive = setInterval(() => !ended && res.write(':\n\n'), keepAliveMs);
    keepAlive.unref();
    let expiry: NodeJS.Timeout | undefined;
    if (expiresAt !== null) {
      armExpiry(
        expiresAt,
        () => {
          write('next', formatResult({ errors: [tokenExpired()] }));
          stop();
        },
        (timer) => (expiry = timer),
      );
    }
    const unwatch =
      options.credentialsWatch?.watch({
        authentication: admitted,
        credentials: credentialsOf(req),
        end: (reason) => {
          write('next', formatResult({ errors: [credentialsRevoked(reason)] }));
          stop();
        },
      }) ?? (() => undefined);
    // The client went away: release the upstream subscription at once.
    res.on('close', stop);
    req.on('close', () => {
      if (!res.writableEnded) stop();
    });
    // The client may have gone while the subscription was being started (its close already fired).
    if (res.destroyed) stop();
    try {
      for await (const value of subscription) {
        if (res.writableLength > options.maxSocketBufferBytes) {
          write('next', formatResult({ errors: [slowConsumer(options.maxSocketBufferBytes)] }));
          break;
        }
        write('next', formatResult(value));
      }
    } catch (error) {
      // The queue's own bound (events, not bytes) was passed, or the pipeline broke.
      const message = error instanceof Error ? error.message : String(error);
      requestLogger(options.logger, caller.tenantId, caller.requestId).warn({ err: error }, 'SSE subscription ended with an error');
      write('next', {
        errors: [
          { message, extensions: { code: (error as { extensions?: { code?: unknown } }).extensions?.code ?? 'INTERNAL_SERVER_ERROR' } },
        ],
      });
    } finally {
      clearInterval(keepAlive);
      if (expiry) clearTimeout(expiry);
      unwatch();
      stop();
      finish();
      await options.service.disconnect(connection);
    }
  };
}
export type SseHandler = ReturnType<typeof createSseHandler>;
