import DataLoader from 'dataloader';
import { type BaseContext, type Redis } from '@beedesk/runtime';
import { ApiKeyRepository, ArticleRepository, TenantRepository, type ArticleRecord } from './data';
import { TenantEraser } from './erase';

export interface TenantContext extends BaseContext {
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
  return (base: BaseContext): TenantContext => ({
    ...base,
    articles,
    tenants,
    apiKeys,
    articleLoader: new DataLoader((ids) => articles.getMany(base.tenant.tenantId, ids)),
    eraser,
  });
}
