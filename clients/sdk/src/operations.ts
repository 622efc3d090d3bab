import type {
  ActivityEvent,
  Answer,
  AnswerEvent,
  ApiKey,
  Article,
  ArticleInput,
  AskReceipt,
  CreatedApiKey,
  DataDeletion,
  InferenceStatus,
  Role,
  Session,
  SessionWithTurns,
  Tenant,
  TenantErasure,
  TenantWithArticles,
} from './types';

/** A GraphQL document tagged with its result and variables types. */
export interface Operation<TData, TVariables> {
  readonly document: string;
  readonly __types?: { data: TData; variables: TVariables };
}
const operation = <TData, TVariables = Record<string, never>>(document: string): Operation<TData, TVariables> => ({ document });

const SESSION = 'id userId status startedAt lastActiveAt';
const ANSWER = 'id sessionId question text status confidence needsHuman createdAt completedAt sources { id title }';
const ARTICLE = 'id title body questions locale updatedAt';

export const StartSession = operation<{ startSession: Session }>(`mutation StartSession { startSession { ${SESSION} } }`);

export const GetSession = operation<{ session: SessionWithTurns | null }, { id: string; last?: number }>(
  `query GetSession($id: ID!, $last: Int) { session(id: $id) { ${SESSION} turns(last: $last) { seq role text at answerId } } }`,
);

export const Ask = operation<{ ask: AskReceipt }, { sessionId: string; text: string; clientMessageId?: string }>(
  `mutation Ask($sessionId: ID!, $text: String!, $clientMessageId: ID) {
    ask(sessionId: $sessionId, text: $text, clientMessageId: $clientMessageId) { queuePosition answer { ${ANSWER} } }
  }`,
);

export const GetAnswer = operation<{ answer: Answer | null }, { id: string }>(
  `query GetAnswer($id: ID!) { answer(id: $id) { ${ANSWER} } }`,
);

export const GetTenant = operation<{ tenant: Tenant }>(`query GetTenant { tenant { id name } }`);

export const GetTenantArticles = operation<{ tenant: TenantWithArticles }>(
  `query GetTenantArticles { tenant { id name articles { ${ARTICLE} } } }`,
);

export const UpsertArticle = operation<{ upsertArticle: Article }, { input: ArticleInput }>(
  `mutation UpsertArticle($input: ArticleInput!) { upsertArticle(input: $input) { ${ARTICLE} } }`,
);

export const DeleteArticle = operation<{ deleteArticle: boolean }, { id: string }>(
  `mutation DeleteArticle($id: ID!) { deleteArticle(id: $id) }`,
);

export const UpdateTenant = operation<{ updateTenant: Tenant }, { name: string }>(
  `mutation UpdateTenant($name: String!) { updateTenant(name: $name) { id name } }`,
);

export const GetInferenceStatus = operation<{ inferenceStatus: InferenceStatus }>(
  `query GetInferenceStatus { inferenceStatus { engine queueLag breaker } }`,
);

export const DeleteMyData = operation<{ deleteMyData: DataDeletion }>(`mutation DeleteMyData { deleteMyData { sessions answers keys } }`);

export const EraseTenant = operation<{ eraseTenant: TenantErasure }, { confirmTenantId: string }>(
  `mutation EraseTenant($confirmTenantId: ID!) { eraseTenant(confirmTenantId: $confirmTenantId) { keys sessions answers articles } }`,
);

const API_KEY = 'id name roles persistedOnly prefix createdAt createdBy revokedAt';

export const CreateApiKey = operation<{ createApiKey: CreatedApiKey }, { name: string; roles: Role[]; persistedOnly?: boolean }>(
  `mutation CreateApiKey($name: String!, $roles: [Role!]!, $persistedOnly: Boolean) {
    createApiKey(name: $name, roles: $roles, persistedOnly: $persistedOnly) { secret apiKey { ${API_KEY} } }
  }`,
);

export const RevokeApiKey = operation<{ revokeApiKey: boolean }, { id: string }>(
  `mutation RevokeApiKey($id: ID!) { revokeApiKey(id: $id) }`,
);

export const GetApiKeys = operation<{ tenant: { id: string; apiKeys: ApiKey[] } }>(
  `query GetApiKeys { tenant { id apiKeys { ${API_KEY} } } }`,
);

export const AnswerStream = operation<{ answerStream: AnswerEvent }, { sessionId: string }>(
  `subscription AnswerStream($sessionId: ID!) {
    answerStream(sessionId: $sessionId) { answerId seq kind delta queuePosition answer { ${ANSWER} } }
  }`,
);

export const TenantActivity = operation<{ tenantActivity: ActivityEvent }>(
  `subscription TenantActivity { tenantActivity { kind at session { id userId } answer { id status question } } }`,
);

export const ALL_OPERATIONS = {
  StartSession,
  GetSession,
  Ask,
  GetAnswer,
  GetTenant,
  GetTenantArticles,
  UpsertArticle,
  DeleteArticle,
  UpdateTenant,
  GetInferenceStatus,
  DeleteMyData,
  EraseTenant,
  CreateApiKey,
  RevokeApiKey,
  GetApiKeys,
  AnswerStream,
  TenantActivity,
} as const;
