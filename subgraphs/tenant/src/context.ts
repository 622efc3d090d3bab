import DataLoader from 'dataloader';
import { type BaseContext, type Redis } from '@beedesk/runtime';
import {
  ApiKeyRepository,
  ArticleRepository,
  HandoffRulesRepository,
  TenantRepository,
  WidgetSettingsRepository,
  type ArticleRecord,
  type KnowledgeBaseCaps,
} from './data';
import { CalibrationCache } from './calibration';
import { TenantEraser } from './erase';

export interface TenantSubgraphContext extends BaseContext {
  articles: ArticleRepository;
  tenants: TenantRepository;
  apiKeys: ApiKeyRepository;
  handoffRules: HandoffRulesRepository;
  widget: WidgetSettingsRepository;
  /** Batches the gateway's `_entities` fan-out for articles into one MGET. */
  articleLoader: DataLoader<string, ArticleRecord | null>;
  /** eraseTenant (erase.ts). */
  eraser: TenantEraser;
  /** Caps on the tenant's knowledge base, checked by upsertArticle (0: none). */
  knowledgeBaseCaps: KnowledgeBaseLimits;
  /** Tenant.answerCalibration, remembered per tenant until its articles change (calibration.ts). */
  calibrations: CalibrationCache;
}

export interface KnowledgeBaseLimits extends KnowledgeBaseCaps {
  maxQuestionsPerArticle: number;
}

/** No caps: tests and tools that write articles directly. */
export const NO_KNOWLEDGE_BASE_CAPS: KnowledgeBaseLimits = { maxArticles: 0, maxQuestionsPerArticle: 0, maxQuestionBytes: 0 };

export function contextFactory(redis: Redis, keyPrefix: string, knowledgeBaseCaps: KnowledgeBaseLimits = NO_KNOWLEDGE_BASE_CAPS) {
  const articles = new ArticleRepository(redis, keyPrefix);
  const tenants = new TenantRepository(redis, keyPrefix);
  const apiKeys = new ApiKeyRepository(redis, keyPrefix);
  const widget = new WidgetSettingsRepository(redis, keyPrefix);
  const eraser = new TenantEraser(redis, keyPrefix);
  const handoffRules = new HandoffRulesRepository(redis, keyPrefix);
  const calibrations = new CalibrationCache();
  return (base: BaseContext): TenantSubgraphContext => ({
    ...base,
    articles,
    tenants,
    apiKeys,
    handoffRules,
    widget,
    articleLoader: new DataLoader((ids) => articles.getMany(base.caller.tenantId, ids)),
    eraser,
    knowledgeBaseCaps,
    calibrations,
  });
}
