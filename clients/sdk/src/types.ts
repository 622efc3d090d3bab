// Result types of the core contract, as the SDK's operations select them. operations.test.ts checks
// every operation document against the composed supergraph, so a renamed field fails the build.
export type SessionStatus = 'ACTIVE' | 'EXPIRED';
export type TurnRole = 'USER' | 'ASSISTANT';
export type AnswerStatus = 'QUEUED' | 'ANSWERING' | 'DONE' | 'FALLBACK' | 'FAILED';
export type BreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface Turn {
  seq: number;
  role: TurnRole;
  text: string;
  at: string;
  answerId: string | null;
}

export interface Session {
  id: string;
  userId: string;
  status: SessionStatus;
  startedAt: string;
  lastActiveAt: string;
}

export interface SessionWithTurns extends Session {
  turns: Turn[];
}

export interface ArticleSummary {
  id: string;
  title: string;
}

export interface Article extends ArticleSummary {
  body: string;
  questions: string[];
  locale: string;
  updatedAt: string;
}

export interface Answer {
  id: string;
  sessionId: string;
  question: string;
  text: string;
  status: AnswerStatus;
  confidence: number | null;
  needsHuman: boolean;
  createdAt: string;
  completedAt: string | null;
  sources: ArticleSummary[];
}

export interface AskReceipt {
  answer: Answer;
  queuePosition: number;
}

export interface Tenant {
  id: string;
  name: string;
}

export interface TenantWithArticles extends Tenant {
  articles: Article[];
}

export interface ArticleInput {
  id?: string;
  title: string;
  body: string;
  questions?: string[];
  locale?: string;
}

export type Role = 'CUSTOMER' | 'AGENT' | 'ADMIN';

/** A partner API key as admins see it (never its secret). */
export interface ApiKey {
  id: string;
  name: string;
  roles: Role[];
  persistedOnly: boolean;
  /** Non-secret start of the key, to recognise it. */
  prefix: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

/** A new key; `secret` (the whole `bdk_<tenant>_<secret>` key) is shown only here, once. */
export interface CreatedApiKey {
  apiKey: ApiKey;
  secret: string;
}

export interface InferenceStatus {
  engine: string;
  queueLag: number;
  breaker: BreakerState;
}

/** What deleteMyData removed of the caller's own data. */
export interface DataDeletion {
  sessions: number;
  answers: number;
  keys: number;
}

/** What eraseTenant removed. */
export interface TenantErasure {
  keys: number;
  sessions: number;
  answers: number;
  articles: number;
}

export type AnswerEventKind = 'QUEUED' | 'TOKEN' | 'DONE' | 'FALLBACK' | 'ERROR';

/** One step of an answer being produced (answerStream). */
export interface AnswerEvent {
  answerId: string;
  seq: number;
  kind: AnswerEventKind;
  delta: string | null;
  queuePosition: number | null;
  /** QUEUED and the final kinds: the answer as stored then; null for TOKEN. */
  answer: Answer | null;
}

export type ActivityKind = 'SESSION_STARTED' | 'QUESTION_ASKED' | 'ANSWER_DONE';

/** Something that happened in the admin's tenant (tenantActivity). */
export interface ActivityEvent {
  kind: ActivityKind;
  at: string;
  session: { id: string; userId: string };
  answer: { id: string; status: AnswerStatus; question: string } | null;
}
