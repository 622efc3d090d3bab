import { NO_EVENTS, startSubgraph, type ServiceDeps, type StartedService } from '@beedesk/runtime';
import { subgraphSdl } from '@beedesk/schema';
import { contextFactory } from './context';
import { resolvers } from './resolvers';

/** Sessions, their turns (history) and the 30-minute resume rule. */
export function startSessionService(deps: ServiceDeps): Promise<StartedService> {
  return startSubgraph(deps, {
    name: 'session',
    sdl: subgraphSdl('session'),
    resolvers,
    createContext: contextFactory(deps.redis, deps.keyPrefix, deps.events ?? NO_EVENTS, deps.internalSecret),
  });
}
