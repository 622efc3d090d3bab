// Result types of the SDK's operations, named for their use. Each is taken from the types `npm run codegen`
// generates from operations/*.graphql and the schema, so none is written by hand a second time.
import type {
  AddInternalNoteMutation,
  AnswerStreamSubscription,
  AskConversationMutation,
  ClaimConversationMutation,
  ConversationStreamSubscription,
  GetAgentsQuery,
  GetConversationQuery,
  GetHandoffRulesQuery,
  GetSessionHandoffQuery,
  HandoffEventsSubscription,
  InboxQuery,
  ReleaseConversationMutation,
  ResumeAnswerQuery,
  RequestHumanMutation,
  ResolveConversationMutation,
  SendAgentMessageMutation,
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
  UpdateWidgetSettingsMutation,
  UpsertArticleMutation,
} from './generated/operations';

export type {
  ActivityKind,
  AgentPresence,
  AgentProfileInput,
  ConversationState,
  HandoffActorKind,
  HandoffEventKind,
  HandoffNotice,
  HandoffReason,
  HandoffRulesInput,
  HandoffSource,
  HandoffUnavailableAction,
  InboxFilter,
  WorkingHoursInput,
  AnswerEventKind,
  AnswerStatus,
  ArticleInput,
  BreakerState,
  Role,
  SessionStatus,
  TurnRole,
  WidgetSettingsInput,
} from './generated/operations';

export type Session = StartSessionMutation['startSession'];
export type SessionWithTurns = NonNullable<GetSessionQuery['session']>;
export type Turn = SessionWithTurns['turns'][number];

export type Answer = NonNullable<GetAnswerQuery['answer']>;
/** The stored answer with the text streamed so far (while ANSWERING), for resuming an answer stream. */
export type ResumeAnswerSnapshot = NonNullable<ResumeAnswerQuery['answer']>;
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

// Human handoff.
/** answerStream with human-handoff updates (ConversationStream): answers and agent messages on one subscription. */
export type ConversationEvent = ConversationStreamSubscription['answerStream'];
/** The human-handoff part of a ConversationEvent (null for answer kinds). */
export type ConversationUpdate = NonNullable<ConversationEvent['handoff']>;
/** ask's receipt with the conversation's state (AskConversation). */
export type ConversationAskReceipt = AskConversationMutation['ask'];
/** A conversation's ownership as its customer sees it. */
export type SessionHandoff = RequestHumanMutation['requestHuman'];
export type SessionHandoffView = NonNullable<GetSessionHandoffQuery['session']>;
/** One inbox page. */
export type InboxPage = InboxQuery['inbox'];
export type InboxConversation = InboxPage['edges'][number]['node'];
/** A conversation with transcript, audit trail and notes (staff). */
export type ConversationView = NonNullable<GetConversationQuery['conversation']>;
export type HandoffAuditEntry = ConversationView['audit'][number];
export type InternalNote = AddInternalNoteMutation['addInternalNote'];
export type Agent = GetAgentsQuery['agents'][number];
/** What claim/assign/reassign return. */
export type ConversationAssignment = ClaimConversationMutation['claimConversation'];
export type ConversationRelease = ReleaseConversationMutation['releaseConversation'];
export type ConversationClosing = ResolveConversationMutation['resolveConversation'];
export type HandoffMessage = SendAgentMessageMutation['sendAgentMessage'];
/** One entry of the tenant's handoff event log (handoffEvents). */
export type HandoffEvent = HandoffEventsSubscription['handoffEvents'];
export type HandoffRules = GetHandoffRulesQuery['tenant']['handoffRules'];

/** A tenant's web widget settings as an admin sees them. */
export type WidgetSettings = UpdateWidgetSettingsMutation['updateWidgetSettings'];
