import { ApolloGateway } from '@apollo/gateway';
import type { GatewayExecutor } from '@apollo/server-gateway-interface';
import type { Logger } from '@beedesk/runtime';
import type { GraphQLSchema } from 'graphql';
import type { Agent } from 'undici';
import { SubgraphDataSource } from './subgraph-data-source';

export interface FederatedExecutor {
  schema: GraphQLSchema;
  execute: GatewayExecutor;
  subgraphs: { name: string; url: string }[];
  stop(): Promise<void>;
}

/**
 * Loads a supergraph into @apollo/gateway (query planning and plan execution). Subgraph URLs come
 * from the supergraph's join__graph directives unless `urlOverride` gives one.
 */
export async function createFederatedExecutor(options: {
  supergraphSdl: string;
  agent: Agent;
  timeoutMs: number;
  logger: Logger;
  urlOverride: (name: string) => string | undefined;
}): Promise<FederatedExecutor> {
  const subgraphs: { name: string; url: string }[] = [];
  const log = options.logger.child({ component: 'apollo-gateway' });
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    logger: {
      debug: (m: unknown) => log.debug(String(m)),
      info: (m: unknown) => log.info(String(m)),
      warn: (m: unknown) => log.warn(String(m)),
      error: (m: unknown) => log.error(String(m)),
    },
    buildService: ({ name, url }) => {
      const resolved = options.urlOverride(name) ?? url;
      if (!resolved) throw new Error(`subgraph ${name} has no URL in the supergraph and no override`);
      subgraphs.push({ name, url: resolved });
      return new SubgraphDataSource(name, resolved, options.agent, options.timeoutMs);
    },
  });
  const { executor } = await gateway.load();
  if (!executor) throw new Error('@apollo/gateway did not provide an executor');
  const schema = gateway.schema;
  if (!schema) throw new Error('@apollo/gateway did not provide a schema');
  return { schema, execute: executor, subgraphs, stop: () => gateway.stop() };
}
