import { loadConfig, startSubgraph, type ServiceDeps, type StartedService } from '@beedesk/runtime';
import { subgraphSdl } from '@beedesk/schema';
import { tenantSettings, type TenantSettings } from './config';
import { contextFactory } from './context';
import { resolvers } from './resolvers';

export { tenantSettings, type TenantSettings } from './config';

/** Tenants and their knowledge-base articles; `settings` default to the KB_MAX_* environment settings. */
export function startTenantService(deps: ServiceDeps, settings: TenantSettings = loadConfig(tenantSettings)): Promise<StartedService> {
  return startSubgraph(deps, {
    name: 'tenant',
    sdl: subgraphSdl('tenant'),
    resolvers,
    createContext: contextFactory(deps.redis, deps.keyPrefix, {
      maxArticles: settings.KB_MAX_ARTICLES,
      maxQuestionsPerArticle: settings.KB_MAX_QUESTIONS_PER_ARTICLE,
      maxQuestionBytes: settings.KB_MAX_QUESTION_BYTES,
    }),
  });
}
