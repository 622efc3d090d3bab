/**
 * `@beedesk/tenant/data`: the tenant package's data, for the services that read it. The gateway verifies
 * partner API keys; inference reads the articles and the answer threshold (and follows their changes).
 * Only the tenant subgraph writes tenants, articles and keys.
 */
export {
  API_KEY_SCHEME,
  ApiKeyRepository,
  hashApiKey,
  parseApiKey,
  type ApiKeyRecord,
  type IssuedApiKey,
  type NewApiKey,
  type VerifiedApiKey,
} from './api-keys';
export {
  ArticleRepository,
  questionBytesOf,
  type ArticleRecord,
  type CappedUpsert,
  type ChangeSubscription,
  type KnowledgeBaseCaps,
  type KnowledgeState,
} from './articles';
export { DEFAULT_ANSWER_CONFIDENCE_THRESHOLD, TenantRepository, type TenantRecord, type TenantUpdate } from './tenants';
export {
  DEFAULT_HANDOFF_RULES,
  HandoffRulesRepository,
  invalidHandoffRule,
  parseHandoffRules,
  type HandoffRulesRecord,
} from './handoff-rules';
export {
  DEFAULT_WIDGET_THEME_COLOR,
  normaliseOrigin,
  parseWidgetKey,
  WIDGET_KEY_SCHEME,
  WIDGET_POSITIONS,
  WidgetSettingsRepository,
  type WidgetPosition,
  type WidgetSettingsRecord,
  type WidgetSettingsUpdate,
} from './widget';
