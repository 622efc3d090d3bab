import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Caller } from './caller';
import { ErrorCode } from './errors';
import { isRedisUnavailableError } from './redis';
import { requestLogger, type Logger } from './logger';
import { verifyContext } from './signed-context';

/** What every resolver of every subgraph gets: the verified caller and a logger tagged with them. */
export interface BaseContext {
  caller: Caller;
  log: Logger;
}

export interface RequestContextOptions<TContext extends BaseContext> {
  internalSecret: string;
  logger: Logger;
  /** Adds per-request state (DataLoaders, repositories) to the verified base context. */
  createContext: (base: BaseContext) => TContext;
}

export type CallerVerification = { ok: true; caller: Caller } | { ok: false; message: string };

/**
 * The one path from a gateway request to a resolver's context, shared by the subgraph's HTTP
 * (graphql-yoga) and graphql-ws transports: verify the signed caller (the `x-beedesk-context`
 * header, or the same string in graphql-ws connectionParams), build the context, and mask what
 * resolvers throw unexpectedly.
 */
export function createRequestContexts<TContext extends BaseContext>(options: RequestContextOptions<TContext>) {
  const { logger } = options;

  // Our own coded errors pass through; anything else is a bug and must not leak details. The line
  // about it carries the request's tenant and request id when the request got that far.
  const maskErrorFor =
    (log: Logger) =>
    (error: unknown): GraphQLError => {
      const graphqlError = error instanceof GraphQLError ? error : null;
      const original = graphqlError?.originalError;
      if (graphqlError && (!original || original instanceof GraphQLError)) return graphqlError;
      if (isRedisUnavailableError(original ?? error)) {
        log.warn({ err: original ?? error }, 'redis unavailable: request refused');
        return new GraphQLError('A data store this request needs is unavailable for a moment; please retry shortly.', {
          nodes: graphqlError?.nodes,
          path: graphqlError?.path,
          extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, reason: 'DATA_STORE_UNAVAILABLE' },
        });
      }
      log.error({ err: original ?? error }, 'unexpected error in resolver');
      return new GraphQLError('Unexpected error.', {
        nodes: graphqlError?.nodes,
        path: graphqlError?.path,
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
      });
    };

  return {
    /** The caller a signed context names, or why it is refused (both transports answer the same reason). */
    verify(signed: unknown): CallerVerification {
      const verified = verifyContext(typeof signed === 'string' ? signed : undefined, options.internalSecret);
      if (verified.ok) return verified;
      return { ok: false, message: `Refused: ${verified.reason}. Call this service through the gateway.` };
    },

    /** A fresh context (own DataLoaders) for one operation of a verified caller. */
    contextFor(caller: Caller): TContext {
      return options.createContext({ caller, log: requestLogger(logger, caller.tenantId, caller.requestId) });
    },

    /** Masks errors raised where no request context is at hand (logged with the service's logger). */
    maskError: maskErrorFor(logger),

    /** The result with its errors masked, logged with the request's tagged logger (the service's when there is no context). */
    maskResult(result: ExecutionResult, contextValue: unknown): ExecutionResult {
      if (!result.errors?.length) return result;
      const log = (contextValue as Partial<BaseContext> | undefined)?.log ?? logger;
      return { ...result, errors: result.errors.map(maskErrorFor(log)) };
    },
  };
}
export type RequestContexts<TContext extends BaseContext> = ReturnType<typeof createRequestContexts<TContext>>;
