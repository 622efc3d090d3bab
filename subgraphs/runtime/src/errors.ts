import { GraphQLError } from 'graphql';

/** The stable `extensions.code` values that clients and partners can rely on. */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_REQUEST',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** A tenant's knowledge base is at one of its caps (articles, questions per article, question bytes). */
  KNOWLEDGE_BASE_LIMIT_REACHED: 'KNOWLEDGE_BASE_LIMIT_REACHED',
  /** The state changed under the caller (e.g. a conversation another agent claimed first). */
  CONFLICT: 'CONFLICT',
  /** An agent holds as many conversations as their capacity allows. */
  CAPACITY_REACHED: 'CAPACITY_REACHED',
  /** A part of the contract that this build does not serve yet. */
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A GraphQL error carrying one of our codes; `extra` lands in `extensions` beside the code. */
export function codedError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extra, code } });
}

export const notFound = (what: string, id: string): GraphQLError =>
  codedError(ErrorCode.NOT_FOUND, `${what} "${id}" was not found`, { id });

export const badInput = (message: string, field?: string): GraphQLError =>
  codedError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});

export const forbidden = (message: string): GraphQLError => codedError(ErrorCode.FORBIDDEN, message);
