import { startSubgraph, type ServiceDeps, type StartedService } from '@beedesk/runtime';
import { subgraphSdl } from '@beedesk/schema';
import { contextFactory } from './context';
import { resolvers } from './resolvers';

/** Tenants and their knowledge-base articles. */
export function startTenantService(deps: ServiceDeps): Promise<StartedService> {
  return startSubgraph(deps, {
    name: 'tenant',
    sdl: subgraphSdl('tenant'),
    resolvers,
    createContext: contextFactory(deps.redis, deps.keyPrefix),
  });
}
