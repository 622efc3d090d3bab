import { GraphQLError } from 'graphql';

/** A refusal as a value: the HTTP status, the GraphQL errors (each with its code) and any headers (Retry-After). */
export interface Refusal {
  ok: false;
  status: number;
  errors: GraphQLError[];
  headers?: Record<string, string>;
}

export const refusal = (
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
  extensions: Record<string, unknown> = {},
): Refusal => ({
  ok: false,
  status,
  errors: [new GraphQLError(message, { extensions: { code, ...extensions } })],
  headers,
});
