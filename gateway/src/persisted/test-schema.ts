import { Supergraph } from '@apollo/federation-internals';
import { readSupergraph } from '@beedesk/schema';
import type { GraphQLSchema } from 'graphql';

/** beedesk's API schema, as the gateway serves it (for tests). */
export const apiSchema = (): GraphQLSchema => Supergraph.build(readSupergraph()).apiSchema().toGraphQLJSSchema();
