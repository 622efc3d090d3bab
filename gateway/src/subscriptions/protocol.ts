import type { GraphQLError, GraphQLSchema } from 'graphql';
import type { SubscriptionDocument } from './service';

export type Prepared = { ok: true; schema: GraphQLSchema; input: SubscriptionDocument } | { ok: false; errors: GraphQLError[] };
