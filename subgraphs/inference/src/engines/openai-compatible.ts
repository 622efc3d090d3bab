import type { InferenceRequest } from '@beedesk/runtime';
import { errors as undiciErrors, request, type Dispatcher } from 'undici';
import { usedSources } from './attribution';
import { userContext } from './knowledge-base';
import { SseParser } from './sse';
import { EngineUnavailableError, isChinese, type AnswerEngine, type EngineAnswer, type EngineCall, type KnowledgeSource } from './types';

export interface OpenAICompatibleOptions {
  /** e.g. http://127.0.0.1:8000 (vLLM), http://127.0.0.1:11434 (Ollama): `/v1/chat/completions` is appended. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Deadline for the first token after sending the request. */
  firstTokenTimeoutMs: number;
  /** Deadline for each gap between tokens. */
  idleTimeoutMs: number;
  dispatcher: Dispatcher;
  knowledge: KnowledgeSource;
  /** Articles put into the prompt. */
  articlesInPrompt?: number;
}

interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

interface ChatChunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
}

const RETRYABLE_STATUS = (status: number) => status === 429 || status >= 500;

/**
 * Retrieval-augmented answers from any OpenAI-compatible streaming endpoint (vLLM, Ollama,
 * Xinference…): the tenant's best articles and the session history go into the prompt, tokens
 * stream out as they arrive. Deadlines on the first token and on every gap between tokens.
 */
export class OpenAICompatibleEngine implements AnswerEngine {
  readonly name = 'llm';
  readonly endpoint: string;
  private readonly url: string;

  constructor(private readonly options: OpenAICompatibleOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/v1/chat/completions`;
    this.endpoint = new URL(this.url).origin;
  }

  async answer(inference: InferenceRequest, call: EngineCall): Promise<EngineAnswer> {
    const index = await this.options.knowledge.indexFor(inference.tenantId);
    const retrieved = await index.searchAsync(inference.question, {
      context: userContext(inference),
      limit: this.options.articlesInPrompt ?? 3,
    });
    const articles = retrieved.ranked.map((r) => r.article);
    const messages = this.prompt(inference, articles, call.resumeFrom);
    const text = call.resumeFrom + (await this.stream(messages, call));
    return {
      text,
      // The articles the answer itself cites or quotes (attribution.ts), not every one that was retrieved.
      sourceIds: usedSources(text, articles),
      confidence: retrieved.best?.confidence ?? null,
      needsHuman: false,
    };
  }

  private prompt(inference: InferenceRequest, articles: { title: string; body: string }[], resumeFrom: string): ChatMessage[] {
    const zh = isChinese(inference.question);
    const knowledge = articles.map((a, i) => `[${i + 1}] ${a.title}\n${a.body}`).join('\n\n') || '(no articles)';
    const system =
      'You are a customer-service assistant. Answer only from the help-centre articles below; if they do not ' +
      'cover the question, say so and offer to hand over to a human. Be brief and friendly. Cite the article ' +
      'you answer from by its number, e.g. [1]; cite none when no article covers the question.' +
      (zh ? ' Answer in Chinese.' : ' Answer in the language of the question.') +
      `\n\nArticles:\n${knowledge}`;
    const history: ChatMessage[] = inference.history.map((turn) => ({
      role: turn.role === 'USER' ? 'user' : 'assistant',
      content: turn.text,
    }));
    const messages: ChatMessage[] = [{ role: 'system', content: system }, ...history, { role: 'user', content: inference.question }];
    if (resumeFrom) messages.push({ role: 'assistant', content: resumeFrom });
    return messages;
  }

  /** Streams the completion; returns the generated text (without `resumeFrom`). */
  private async stream(messages: ChatMessage[], call: EngineCall): Promise<string> {
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort(call.signal?.reason);
    call.signal?.addEventListener('abort', onOuterAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    let timedOut: string | null = null;
    const arm = (ms: number, what: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = what;
        abort.abort(new Error(what));
      }, ms);
    };
    arm(this.options.firstTokenTimeoutMs, `no first token within ${this.options.firstTokenTimeoutMs} ms`);
    let text = '';
    // A failure of the token sink (e.g. the worker lost its claim) is not an engine failure.
    let sinkFailure: unknown = null;
    try {
      const response = await request(this.url, {
        method: 'POST',
        dispatcher: this.options.dispatcher,
        signal: abort.signal,
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: this.options.model,
          messages,
          stream: true,
          temperature: 0.2,
          // Continue an answer an earlier worker started (vLLM's extension; others ignore it).
          ...(messages[messages.length - 1]?.role === 'assistant' ? { continue_final_message: true, add_generation_prompt: false } : {}),
        }),
      });
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw new EngineUnavailableError(`LLM endpoint answered HTTP ${response.statusCode}`, RETRYABLE_STATUS(response.statusCode));
      }
      const parser = new SseParser();
      const decoder = new TextDecoder();
      for await (const chunk of response.body) {
        for (const data of parser.push(decoder.decode(chunk as Buffer, { stream: true }))) {
          if (data === '[DONE]') return text;
          const delta = (JSON.parse(data) as ChatChunk).choices?.[0]?.delta?.content;
          if (delta) {
            arm(this.options.idleTimeoutMs, `no token for ${this.options.idleTimeoutMs} ms`);
            text += delta;
            try {
              await call.onToken(delta);
            } catch (error) {
              sinkFailure = error;
              throw error;
            }
          }
        }
      }
      throw new EngineUnavailableError('LLM stream ended without [DONE]', true);
    } catch (error) {
      if (sinkFailure) throw sinkFailure;
      if (error instanceof EngineUnavailableError) throw error;
      if (timedOut) throw new EngineUnavailableError(timedOut, true);
      if (call.signal?.aborted) throw error;
      // Not the parser's message: it quotes the model's output.
      if (error instanceof SyntaxError) throw new EngineUnavailableError('LLM stream is not valid JSON', true);
      const reason = error instanceof undiciErrors.UndiciError || error instanceof Error ? error.message : String(error);
      throw new EngineUnavailableError(`LLM endpoint unreachable: ${reason}`, true);
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onOuterAbort);
    }
  }
}
