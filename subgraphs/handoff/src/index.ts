import { startSubgraph, type ServiceDeps, type StartedService } from '@beedesk/runtime';
import { subgraphSdl } from '@beedesk/schema';
import { contextFactory } from './context';
import { resolvers } from './resolvers';

/** Human handoff: conversation ownership, the waiting line, agents, notes, typing and the staff event log. */
export function startHandoffService(deps: ServiceDeps): Promise<StartedService> {
  return startSubgraph(deps, {
    name: 'handoff',
    sdl: subgraphSdl('handoff'),
    resolvers,
    createContext: contextFactory({ redis: deps.redis, keyPrefix: deps.keyPrefix, internalSecret: deps.internalSecret }),
  });
}
