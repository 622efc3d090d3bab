import type { InferenceRequest } from '@beedesk/runtime';
import type { KnowledgeCache } from './knowledge-cache';
import type { RankedArticle } from './knowledge';

/** What an engine produced for one question; the worker stores it. */
export interface EngineAnswer {
  text: string;
  sourceIds: string[];
  confidence: number;
  needsHuman: boolean;
}

export interface AnswerEngine {
  readonly name: string;
  answer(request: InferenceRequest): Promise<EngineAnswer>;
}

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/;
export const isChinese = (text: string): boolean => CJK.test(text);

const quoteTitles = (ranked: RankedArticle[], zh: boolean) =>
  ranked.map((r) => (zh ? `「${r.article.title}」` : `“${r.article.title}”`)).join(zh ? '、' : ', ');

function unsureReply(question: string, suggestions: RankedArticle[]): string {
  const zh = isChinese(question);
  if (suggestions.length === 0) {
    return zh
      ? '抱歉，我暂时无法回答这个问题。我们的客服人员会尽快跟进。'
      : "I don't have an answer to that yet. A member of our team will follow up.";
  }
  return zh
    ? `抱歉，我不太确定您的问题。以下文章可能有帮助：${quoteTitles(suggestions, true)}。我们的客服人员也会尽快跟进。`
    : `I'm not sure I understood your question. These articles may help: ${quoteTitles(suggestions, false)}. A member of our team will also follow up.`;
}

/**
 * The built-in engine: picks the tenant's best article for the question (using the session's
 * recent user turns for follow-ups) and answers with it; when unsure, offers the closest articles
 * and marks the answer for a human instead of guessing.
 */
export class KnowledgeBaseEngine implements AnswerEngine {
  readonly name = 'knowledge-base';

  constructor(private readonly knowledge: KnowledgeCache) {}

  async answer(request: InferenceRequest): Promise<EngineAnswer> {
    const index = await this.knowledge.indexFor(request.tenantId);
    const context = request.history.filter((turn) => turn.role === 'USER').map((turn) => turn.text);
    const result = index.search(request.question, { context, limit: 3 });
    if (result.confident && result.best) {
      return {
        text: result.best.article.body,
        sourceIds: [result.best.article.id],
        confidence: result.best.confidence,
        needsHuman: false,
      };
    }
    return {
      text: unsureReply(request.question, result.ranked),
      sourceIds: result.ranked.map((r) => r.article.id),
      confidence: result.best?.confidence ?? 0,
      needsHuman: true,
    };
  }
}
