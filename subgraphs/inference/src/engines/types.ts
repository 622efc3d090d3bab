import type { InferenceRequest } from '@beedesk/runtime';
import type { KnowledgeIndex } from '@beedesk/knowledge';

/** Where engines get a tenant's up-to-date knowledge index (KnowledgeCache in the service). */
export interface KnowledgeSource {
  indexFor(tenantId: string): Promise<KnowledgeIndex>;
}

/** What an engine produced for one question; the worker stores it. */
export interface EngineAnswer {
  /** The whole answer text, including any part resumed from an earlier worker. */
  text: string;
  sourceIds: string[];
  confidence: number | null;
  needsHuman: boolean;
}

export interface EngineCall {
  /** Text an earlier worker already streamed to the user; the engine continues after it. */
  resumeFrom: string;
  /** Receives each new piece of text as it is produced, in order. */
  onToken: (delta: string) => Promise<void>;
  signal?: AbortSignal;
}

export interface AnswerEngine {
  readonly name: string;
  /** What the circuit breaker is per: one breaker for each remote endpoint. */
  readonly endpoint: string;
  answer(request: InferenceRequest, call: EngineCall): Promise<EngineAnswer>;
}

/** A failure worth retrying (network, timeout, 5xx, 429) before any token reached the user. */
export class EngineUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}

/** One CJK character (kana, Han, Hangul). */
export const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/;
export const isChinese = (text: string): boolean => CJK.test(text);
