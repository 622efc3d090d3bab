// Result types of the SDK's operations, named for their use. Each is taken from the types `npm run codegen`
// generates from operations/*.graphql and the schema, so none is written by hand a second time.
import type {
  AnswerStreamSubscription,
  AskMutation,
  CreateApiKeyMutation,
  DeleteMyDataMutation,
  EraseTenantMutation,
  GetAnswerQuery,
  GetApiKeysQuery,
  GetInferenceStatusQuery,
  GetSessionQuery,
  GetTenantArticlesQuery,
  GetTenantQuery,
  StartSessionMutation,
  TenantActivitySubscription,
  UpsertArticleMutation,
} from './generated/operations';

export type {
  ActivityKind,
  AnswerEventKind,
  AnswerStatus,
  ArticleInput,
  BreakerState,
  Role,
  SessionStatus,
  TurnRole,
} from './generated/operations';

export type Session = StartSessionMutation['startSession'];
export type SessionWithTurns = NonNullable<GetSessionQuery['session']>;
export type Turn = SessionWithTurns['turns'][number];

export type Answer = NonNullable<GetAnswerQuery['answer']>;
export type ArticleSummary = Answer['sources'][number];
export type AskReceipt = AskMutation['ask'];
/** One step of an answer being produced (answerStream); `answer` is null for TOKEN. */
export type AnswerEvent = AnswerStreamSubscription['answerStream'];
/** Something that happened in the admin's tenant (tenantActivity). */
export type ActivityEvent = TenantActivitySubscription['tenantActivity'];

export type Tenant = GetTenantQuery['tenant'];
export type TenantWithArticles = GetTenantArticlesQuery['tenant'];
export type Article = UpsertArticleMutation['upsertArticle'];
/** A partner API key as admins see it (never its secret). */
export type ApiKey = GetApiKeysQuery['tenant']['apiKeys'][number];
/** A new key; `secret` (the whole `bdk_<tenant>_<secret>` key) is shown only here, once. */
export type CreatedApiKey = CreateApiKeyMutation['createApiKey'];
/** What eraseTenant removed. */
export type TenantErasure = EraseTenantMutation['eraseTenant'];

export type InferenceStatus = GetInferenceStatusQuery['inferenceStatus'];
/** What deleteMyData removed of the caller's own data. */
export type DataDeletion = DeleteMyDataMutation['deleteMyData'];
