import * as ops from './operations';
import type { Operation } from './operations';
import type { Answer, Article, ArticleInput, AskReceipt, InferenceStatus, Session, SessionWithTurns, Tenant, TenantWithArticles } from './types';

export interface GraphQLErrorPayload {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** A failed call: `code` is the first error's `extensions.code` (e.g. NOT_FOUND, UNAUTHENTICATED). */
export class BeedeskError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly errors: GraphQLErrorPayload[],
    readonly status: number,
  ) {
    super(message);
    this.name = 'BeedeskError';
  }
}

export interface ClientOptions {
  /** The gateway's GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  /** A JWT (sent as `Authorization: Bearer <token>`). */
  token?: string;
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

const FINAL: ReadonlySet<string> = new Set(['DONE', 'FALLBACK', 'FAILED']);

/** A small typed client for the core contract of the beedesk API. */
export class BeedeskClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Runs any typed operation; throws BeedeskError when the result has errors. */
  async request<TData, TVariables>(operation: Operation<TData, TVariables>, variables?: TVariables): Promise<TData> {
    const response = await this.fetchImpl(this.options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
        ...this.options.headers,
      },
      body: JSON.stringify({ query: operation.document, variables: variables ?? {} }),
    });
    let body: { data?: TData | null; errors?: GraphQLErrorPayload[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new BeedeskError(`HTTP ${response.status} without a GraphQL body`, 'BAD_RESPONSE', [], response.status);
    }
    if (body.errors?.length) {
      const first = body.errors[0]!;
      throw new BeedeskError(first.message, first.extensions?.code ?? 'UNKNOWN', body.errors, response.status);
    }
    if (body.data == null) throw new BeedeskError('The response has no data', 'BAD_RESPONSE', [], response.status);
    return body.data;
  }

  async startSession(): Promise<Session> {
    return (await this.request(ops.StartSession)).startSession;
  }

  async session(id: string, lastTurns?: number): Promise<SessionWithTurns | null> {
    return (await this.request(ops.GetSession, { id, last: lastTurns })).session;
  }

  async ask(sessionId: string, text: string, clientMessageId?: string): Promise<AskReceipt> {
    return (await this.request(ops.Ask, { sessionId, text, clientMessageId })).ask;
  }

  async answer(id: string): Promise<Answer | null> {
    return (await this.request(ops.GetAnswer, { id })).answer;
  }

  /** Polls an answer until it is DONE, FALLBACK or FAILED (streaming comes with subscriptions). */
  async waitForAnswer(id: string, { timeoutMs = 30_000, intervalMs = 100 } = {}): Promise<Answer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await this.answer(id);
      if (answer && FINAL.has(answer.status)) return answer;
      if (Date.now() > deadline) throw new BeedeskError(`answer ${id} not final after ${timeoutMs} ms`, 'TIMEOUT', [], 0);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  async tenant(): Promise<Tenant> {
    return (await this.request(ops.GetTenant)).tenant;
  }

  async tenantWithArticles(): Promise<TenantWithArticles> {
    return (await this.request(ops.GetTenantArticles)).tenant;
  }

  async upsertArticle(input: ArticleInput): Promise<Article> {
    return (await this.request(ops.UpsertArticle, { input })).upsertArticle;
  }

  async deleteArticle(id: string): Promise<boolean> {
    return (await this.request(ops.DeleteArticle, { id })).deleteArticle;
  }

  async updateTenant(name: string): Promise<Tenant> {
    return (await this.request(ops.UpdateTenant, { name })).updateTenant;
  }

  async inferenceStatus(): Promise<InferenceStatus> {
    return (await this.request(ops.GetInferenceStatus)).inferenceStatus;
  }
}
