import type { TenantContext } from '@beedesk/runtime';
import type { GraphQLError, GraphQLSchema } from 'graphql';
import type { SubscriptionDocument } from './service';

/** What both client protocols need from the gateway: authentication and document preparation. */
export type ConnectionAuth = (
  authorization: string | undefined,
) => Promise<{ ok: true; caller: TenantContext; expiresAt: number | null } | { ok: false; message: string }>;

export type Prepared = { ok: true; schema: GraphQLSchema; input: SubscriptionDocument } | { ok: false; errors: GraphQLError[] };

/** Parses (cached), validates and picks the operation; only subscription operations are accepted. */
export type PrepareDocument = (query: unknown, operationName: string | undefined, variables: Record<string, unknown> | undefined) => Prepared;
