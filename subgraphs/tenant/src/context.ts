import DataLoader from 'dataloader';
import { ApiKeyRepository, ArticleRepository, TenantRepository, type ArticleRecord, type BaseContext, type Redis } from '@beedesk/runtime';
import { TenantEraser } from './erase';

export interface TenantSubgraphContext extends BaseContext {
  articles: ArticleRepository;
  tenants: TenantRepository;
  apiKeys: ApiKeyRepository;
  /** Batches the gateway's `_entities` fan-out for articles into one MGET. */
  articleLoader: DataLoader<string, ArticleRecord | null>;
  /** eraseTenant (erase.ts). */
  eraser: TenantEraser;
}

export function contextFactory(redis: Redis, keyPrefix: string) {
  const articles = new ArticleRepository(redis, keyPrefix);
  const tenants = new TenantRepository(redis, keyPrefix);
  const apiKeys = new ApiKeyRepository(redis, keyPrefix);
  const eraser = new TenantEraser(redis, keyPrefix);
  return (base: BaseContext): TenantSubgraphContext => ({
    ...base,
    articles,
    tenants,
    apiKeys,
    articleLoader: new DataLoader((ids) => articles.getMany(base.caller.tenantId, ids)),
    eraser,
  });
}
