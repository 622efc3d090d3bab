import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/**
 * Close codes of the gateway's graphql-ws endpoint beyond the protocol's own (4400 bad request,
 * 4403 forbidden, 4408 init timeout, 4409 duplicate id, 4429 repeated init, 4500 internal).
 */
export const CloseCodes = {
  /** No, a malformed, or an expired token, at connection_init or later. graphql-ws clients do not retry. */
  UNAUTHORIZED: 4401,
  /** The client read too slowly: its buffered events passed the bound. A standard code clients do not retry. */
  SLOW_CONSUMER: 1008,
  /**
   * The user has as many WebSockets open (over every replica, idle ones included) as allowed
   * (GATEWAY_MAX_SOCKETS_PER_USER). graphql-ws clients retry it with back-off; close a socket first.
   */
  TOO_MANY_CONNECTIONS: 4430,
  /** The gateway is shutting down; every subscription was completed first. */
  GOING_AWAY: 1001,
} as const;

export const codedGraphQLError = (code: string, message: string): GraphQLError => new GraphQLError(message, { extensions: { code } });

/** The upstream subgraph ended the stream (killed, restarted, unreachable): the client must resubscribe. */
export const upstreamEnded = (service: string, detail: string): GraphQLError =>
  codedGraphQLError('SERVICE_UNAVAILABLE', `The ${service} service ended the subscription (${detail}); subscribe again.`);

export const tokenExpired = (): GraphQLError => codedGraphQLError('UNAUTHENTICATED', 'The token has expired.');

/** The credentials were revoked (API key) or the tenant erased while the subscription was open. */
export const credentialsRevoked = (reason: string): GraphQLError => codedGraphQLError('UNAUTHENTICATED', reason);

export const slowConsumer = (limit: number): GraphQLError =>
  codedGraphQLError('SLOW_CONSUMER', `More than ${limit} events were waiting for this client; the subscription was dropped.`);

export const shuttingDown = (): GraphQLError => codedGraphQLError('SERVICE_UNAVAILABLE', 'The gateway is shutting down.');

/** Upstream errors arrive as JSON; the client protocols serialise GraphQLError instances. */
export const toGraphQLError = (error: GraphQLFormattedError | GraphQLError): GraphQLError =>
  error instanceof GraphQLError ? error : new GraphQLError(error.message, { path: error.path, extensions: error.extensions });
