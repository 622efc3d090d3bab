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

export interface InferenceStatus {
  engine: string;
  queueLag: number;
  breaker: BreakerState;
}
