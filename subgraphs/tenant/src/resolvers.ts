import { badInput, codedError, ErrorCode, forbidden, isSafeId, isStaff } from '@beedesk/runtime';
import {
  DEFAULT_ANSWER_CONFIDENCE_THRESHOLD,
  invalidHandoffRule,
  type ArticleRecord,
  type HandoffRulesRecord,
  type TenantRecord,
  type TenantUpdate,
} from './data';
import { requireAdmin } from './admin';
import { apiKeyResolvers } from './api-keys';
import type { TenantSubgraphContext } from './context';
import { eraseTenant } from './erase';
import type { Resolvers } from './generated/resolvers';
import { requireStaff, searchArticles } from './search';
import { articleFromInput } from './validation';
import { widgetResolvers } from './widget';

/** A source article that was deleted after it was quoted still resolves, without any content. */
const removedArticle = (id: string): ArticleRecord => ({
  id,
  title: '(removed article)',
  body: '',
  questions: [],
  locale: 'en',
  updatedAt: new Date(0).toISOString(),
});

const LIMIT_MESSAGES = {
  articles: (max: number) => `This knowledge base has reached its limit of ${max} articles; delete one before adding another.`,
  questionsPerArticle: (max: number) => `An article may have at most ${max} example questions.`,
  questionBytes: (max: number) =>
    `The example questions of this knowledge base would exceed their limit of ${max} bytes in total; shorten or delete some first.`,
};

/** KNOWLEDGE_BASE_LIMIT_REACHED, naming the cap (`extensions.limit`), its value and where the tenant stands. */
const knowledgeBaseLimit = (limit: keyof typeof LIMIT_MESSAGES, max: number, current: number) =>
  codedError(ErrorCode.KNOWLEDGE_BASE_LIMIT_REACHED, LIMIT_MESSAGES[limit](max), { limit, max, current });

async function tenantOf(context: TenantSubgraphContext): Promise<TenantRecord> {
  const id = context.caller.tenantId;
  return (await context.tenants.get(id)) ?? { id, name: id, createdAt: new Date(0).toISOString(), answerConfidenceThreshold: null };
}

export const resolvers: Resolvers = {
  Query: {
    tenant: (_root, _args, context) => tenantOf(context),
    searchArticles: async (_root, args, context) => {
      requireStaff(context.caller, 'search the knowledge base here');
      return searchArticles(await context.articles.list(context.caller.tenantId), args);
    },
  },
  Tenant: {
    // Only the caller's own tenant resolves; any other id is null, never another tenant's data.
    __resolveReference: (ref, context) => (ref.id === context.caller.tenantId ? tenantOf(context) : null),
    articles: (_tenant, _args, context) => context.articles.list(context.caller.tenantId),
    answerConfidenceThreshold: (tenant) => tenant.answerConfidenceThreshold ?? DEFAULT_ANSWER_CONFIDENCE_THRESHOLD,
    ...apiKeyResolvers.Tenant,
    ...widgetResolvers.Tenant,
    handoffRules: (_tenant, _args, context) => {
      if (!isStaff(context.caller)) throw forbidden('The handoff rules are for the staff of this tenant.');
      return context.handoffRules.get(context.caller.tenantId);
    },
    answerCalibration: async (tenant, _args, context) => {
      if (!isStaff(context.caller)) throw forbidden('The answer calibration is for the staff of this tenant.');
      const articles = await context.articles.list(context.caller.tenantId);
      const current = tenant.answerConfidenceThreshold ?? DEFAULT_ANSWER_CONFIDENCE_THRESHOLD;
      return context.calibrations.get(context.caller.tenantId, articles, current);
    },
  },
  Article: {
    __resolveReference: async (ref, context) =>
      isSafeId(ref.id) ? ((await context.articleLoader.load(ref.id)) ?? removedArticle(ref.id)) : null,
  },
  Mutation: {
    ...apiKeyResolvers.Mutation,
    ...widgetResolvers.Mutation,
    updateHandoffRules: async (_root, { input }, context) => {
      requireAdmin(context, 'change the handoff rules');
      const current = await context.handoffRules.get(context.caller.tenantId);
      const next: HandoffRulesRecord = { ...current };
      if (input.enabled != null) next.enabled = input.enabled;
      if (input.unsureThreshold !== undefined) next.unsureThreshold = input.unsureThreshold;
      if (input.unsureConsecutive != null) next.unsureConsecutive = input.unsureConsecutive;
      if (input.onOutOfScope != null) next.onOutOfScope = input.onOutOfScope;
      if (input.onEngineFailure != null) next.onEngineFailure = input.onEngineFailure;
      if (input.keywords != null) next.keywords = input.keywords.map((k) => k.trim());
      if (input.timeZone != null) next.timeZone = input.timeZone;
      if (input.workingHours != null) next.workingHours = input.workingHours.map((w) => ({ days: [...w.days], from: w.from, to: w.to }));
      if (input.whenUnavailable != null) next.whenUnavailable = input.whenUnavailable;
      if (input.defaultAgentCapacity != null) next.defaultAgentCapacity = input.defaultAgentCapacity;
      if (input.autoAssign != null) next.autoAssign = input.autoAssign;
      const invalid = invalidHandoffRule(next);
      if (invalid) throw badInput(`${invalid.field}: ${invalid.message}`, invalid.field);
      context.log.info({ enabled: next.enabled, autoAssign: next.autoAssign }, 'handoff rules set');
      return context.handoffRules.set(context.caller.tenantId, next);
    },
    eraseTenant,
    upsertArticle: async (_root, { input }, context) => {
      requireAdmin(context, 'change it');
      const article = articleFromInput(input);
      const caps = context.knowledgeBaseCaps;
      if (caps.maxQuestionsPerArticle > 0 && article.questions.length > caps.maxQuestionsPerArticle) {
        throw knowledgeBaseLimit('questionsPerArticle', caps.maxQuestionsPerArticle, article.questions.length);
      }
      const upserted = await context.articles.upsertWithinCaps(context.caller.tenantId, article, caps);
      if (!upserted.ok) {
        context.log.warn({ articleId: article.id, limit: upserted.limit, max: upserted.max }, 'article refused: knowledge base at its cap');
        throw knowledgeBaseLimit(upserted.limit, upserted.max, upserted.current);
      }
      context.log.info({ articleId: article.id }, 'article upserted');
      return article;
    },
    deleteArticle: async (_root, { id }, context) => {
      requireAdmin(context, 'change it');
      if (!isSafeId(id)) return false;
      const deleted = await context.articles.delete(context.caller.tenantId, id);
      context.log.info({ articleId: id, deleted }, 'article deleted');
      return deleted;
    },
    updateTenant: async (_root, { name, answerConfidenceThreshold }, context) => {
      requireAdmin(context, 'change it');
      const update: TenantUpdate = {};
      if (name != null) {
        const trimmed = name.trim();
        if (!trimmed || trimmed.length > 200) throw badInput('name: 1 to 200 characters', 'name');
        update.name = trimmed;
      }
      if (answerConfidenceThreshold != null) {
        if (!Number.isFinite(answerConfidenceThreshold) || answerConfidenceThreshold < 0 || answerConfidenceThreshold > 1) {
          throw badInput('answerConfidenceThreshold: a number from 0 to 1', 'answerConfidenceThreshold');
        }
        update.answerConfidenceThreshold = answerConfidenceThreshold;
      }
      const updated = await context.tenants.update(context.caller.tenantId, update);
      if (update.answerConfidenceThreshold !== undefined) {
        context.log.info({ answerConfidenceThreshold: update.answerConfidenceThreshold }, 'answer confidence threshold set');
      }
      return updated;
    },
  },
};
