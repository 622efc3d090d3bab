import { GraphQLError } from 'graphql';
import type { Logger } from '@beedesk/runtime';

/**
 * Every error a client receives is a GraphQLError with a stable `extensions.code`. @apollo/gateway
 * passes some through without one: transport failures as plain Errors (a subgraph down or timing
 * out), and request-level errors such as variables that do not coerce.
 */
export function withCodes(errors: readonly unknown[], hasData: boolean, logger: Logger): GraphQLError[] {
  return errors.map((error) => {
    if (!(error instanceof GraphQLError)) {
      logger.warn({ err: error }, 'a subgraph fetch failed');
      return new GraphQLError('A service this request needs did not answer; please try again.', {
        extensions: { code: 'SERVICE_UNAVAILABLE' },
      });
    }
    if (typeof error.extensions['code'] === 'string') return error;
    return new GraphQLError(error.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: error.originalError,
      extensions: { ...error.extensions, code: hasData ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT' },
    });
  });
}

/**
 * A result whose data is null without any error: @apollo/gateway nulls a non-null field out silently
 * when an entity it references resolves to null (deleted, erased, or not visible to the caller), and
 * the GraphQL spec requires an error beside a null `data`. Clients get NOT_FOUND instead of an
 * empty result they cannot tell from a broken server.
 */
export const isSilentlyNulled = (result: { data?: unknown; errors?: readonly unknown[] }): boolean =>
  'data' in result && result.data === null && !result.errors?.length;

export const silentlyNulledError = (): GraphQLError =>
  new GraphQLError('An object this result needs no longer exists or is not visible to you.', {
    extensions: { code: 'NOT_FOUND' },
  });
