import * as ops from './operations';
import type { DataDeletion, TenantErasure } from './types';
import type { Operation } from './operations';
import { connectionFailed, Endpoints, neverSent } from './endpoints';
import { PersistedDocuments, type PersistedOperationsMode } from './persisted';
import { ResumableAnswerStream, type ResumeOptions } from './resume';
import {
  subscribeSse,
  TransportClosed,
  WsTransport,
  type RawErrorPayload,
  type RawResult,
  type SubscriptionProtocol,
} from './subscriptions';
import type {
  ActivityEvent,
  Agent,
  AgentProfileInput,
  ConversationAskReceipt,
  ConversationAssignment,
  ConversationClosing,
  ConversationEvent,
  ConversationRelease,
  ConversationView,
  HandoffEvent,
  HandoffMessage,
  HandoffRules,
  HandoffRulesInput,
  InboxFilter,
  InboxPage,
  InternalNote,
  SessionHandoff,
  SessionHandoffView,
  Answer,
  AnswerEvent,
  ApiKey,
  Article,
  ArticleInput,
  AskReceipt,
  CreatedApiKey,
  InferenceStatus,
  Role,
  Session,
  SessionWithTurns,
  Tenant,
  TenantWithArticles,
  WidgetSettings,
  WidgetSettingsInput,
} from './types';

/** One GraphQL error as the gateway sends it. */
export type GraphQLErrorPayload = RawErrorPayload;

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
  /**
   * More gateway replicas to fail over to, tried in order after `url` (round the list): a refused
   * connection is sent again to the next one at once (it cannot have run), any other connection failure
   * moves later requests and (re)connections on to the next.
   */
  fallbackUrls?: string[];
  /** A JWT (sent as `Authorization: Bearer <token>`). */
  token?: string;
  /** A partner API key instead of a token (sent as `x-api-key`, or `connectionParams.apiKey` on graphql-ws). */
  apiKey?: string;
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  /** How `subscribe()` connects unless told otherwise (default graphql-ws). */
  subscriptionProtocol?: SubscriptionProtocol;
  /** For graphql-ws on Node.js 20 (e.g. `import WebSocket from 'ws'`); Node 22+ has one built in. */
  webSocketImpl?: unknown;
  /**
   * Queries and mutations as persisted operations: `'apq'` (hash first, text on PERSISTED_QUERY_NOT_FOUND)
   * or `{ manifest }` (documentId only). Subscriptions send their text, which the gateway accepts also
   * from persisted-only keys because it is byte for byte a manifest document.
   */
  persistedOperations?: PersistedOperationsMode;
}

export interface SubscribeOptions {
  protocol?: SubscriptionProtocol;
}

// WITH_HUMAN is final too: the question went to a person, and the engine will never answer it.
const FINAL: ReadonlySet<string> = new Set(['DONE', 'FALLBACK', 'FAILED', 'WITH_HUMAN']);

/** A small typed client for the core contract of the beedesk API. */
export class BeedeskClient {
  private readonly fetchImpl: typeof fetch;
  private ws: WsTransport | null = null;
  private readonly persisted: PersistedDocuments;
  private readonly endpoints: Endpoints;
  /** Open resumable answer streams by session, told about the answers asked through this client. */
  private readonly following = new Map<string, Set<ResumableAnswerStream>>();

  constructor(private readonly options: ClientOptions) {
    this.endpoints = new Endpoints([options.url, ...(options.fallbackUrls ?? [])]);
    // Bound: a browser's fetch throws "Illegal invocation" when called as another object's method.
    this.fetchImpl = options.fetch ?? fetch.bind(globalThis);
    this.persisted = new PersistedDocuments(options.persistedOperations);
  }

  /**
   * Runs a typed subscription and yields each event's data; a result with errors (e.g.
   * NOT_FOUND, FORBIDDEN, SERVICE_UNAVAILABLE when a service restarted) ends the iteration with a
   * BeedeskError. `break` (or `return()`) unsubscribes at once.
   */
  subscribe<TData, TVariables>(
    operation: Operation<TData, TVariables>,
    variables?: TVariables,
    options: SubscribeOptions = {},
  ): AsyncIterableIterator<TData> {
    const protocol = options.protocol ?? this.options.subscriptionProtocol ?? 'graphql-ws';
    const vars = (variables ?? {}) as Record<string, unknown>;
    const raw =
      protocol === 'sse'
        ? subscribeSse<TData>(this.fetchImpl, this.endpoints.current(), this.authHeaders(), operation.document, vars)
        : this.wsTransport().subscribe<TData>(operation.document, vars);
    const status = protocol === 'sse' ? 200 : 0;
    const toData = (result: RawResult<TData>): TData => {
      if (result.errors?.length) void raw.return();
      return dataOf(result, status, 'The result has no data');
    };
    const iterator: AsyncIterableIterator<TData> = {
      next: async () => {
        let step: IteratorResult<RawResult<TData>>;
        try {
          step = await raw.next();
        } catch (error) {
          if (error instanceof TransportClosed) throw new BeedeskError(error.message, error.code, [], error.status);
          throw error;
        }
        return step.done ? { value: undefined, done: true } : { value: toData(step.value), done: false };
      },
      return: async () => {
        await raw.return();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Every answer event of a session: QUEUED, TOKEN deltas, then DONE, FALLBACK or ERROR, per question. */
  answerStream(sessionId: string, options?: SubscribeOptions): AsyncIterableIterator<AnswerEvent> {
    return mapIterator(this.subscribe(ops.AnswerStream, { sessionId }, options), (d) => d.answerStream);
  }

  /**
   * The session's answer events like `answerStream`, kept going across lost connections: when the gateway
   * goes away it subscribes again (through the next of `fallbackUrls`) and fills what it missed from the
   * stored answers, so every answer's TOKENs arrive once and in order (what was missed as one catch-up
   * TOKEN) and its final event once (see resume.ts). Answers asked through this client are followed from
   * their receipt on; it ends only on `return()` or an error reconnecting cannot fix (FORBIDDEN, NOT_FOUND…).
   */
  followAnswers(sessionId: string, options?: ResumeOptions & SubscribeOptions): AsyncIterableIterator<AnswerEvent> {
    const stream = new ResumableAnswerStream(
      {
        subscribe: (id) => this.answerStream(id, options),
        snapshot: async (id) => (await this.request(ops.ResumeAnswer, { id })).answer,
      },
      sessionId,
      options,
    );
    const streams = this.following.get(sessionId) ?? new Set<ResumableAnswerStream>();
    this.following.set(sessionId, streams.add(stream));
    const forget = () => {
      streams.delete(stream);
      if (streams.size === 0) this.following.delete(sessionId);
    };
    const iterator: AsyncIterableIterator<AnswerEvent> = {
      next: async () => {
        try {
          const step = await stream.next();
          if (step.done) forget();
          return step;
        } catch (error) {
          forget();
          throw error;
        }
      },
      return: async () => {
        forget();
        return stream.return();
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Customers (and staff following a session): the session's answer events and its human-handoff
   * updates (agent messages, agent typing, ownership changes, waiting position, notices) on one subscription.
   */
  conversationStream(sessionId: string, options?: SubscribeOptions): AsyncIterableIterator<ConversationEvent> {
    return mapIterator(this.subscribe(ops.ConversationStream, { sessionId }, options), (d) => d.answerStream);
  }

  /**
   * Staff: the tenant's handoff events. With `after` (an event's cursor or an inbox page's eventCursor)
   * every event since is delivered first, then live ones. While an agent has it open they are ONLINE.
   */
  handoffEvents(after?: string | null, options?: SubscribeOptions): AsyncIterableIterator<HandoffEvent> {
    return mapIterator(this.subscribe(ops.HandoffEvents, { after: after ?? null }, options), (d) => d.handoffEvents);
  }

  /** Admins: their tenant's live activity. */
  tenantActivity(options?: SubscribeOptions): AsyncIterableIterator<ActivityEvent> {
    return mapIterator(this.subscribe(ops.TenantActivity, {}, options), (d) => d.tenantActivity);
  }

  /** Closes the graphql-ws connection (its subscriptions end). */
  async close(): Promise<void> {
    const ws = this.ws;
    this.ws = null;
    await ws?.close();
  }

  private authHeaders(): Record<string, string> {
    return {
      ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
      ...(this.options.apiKey ? { 'x-api-key': this.options.apiKey } : {}),
      ...this.options.headers,
    };
  }

  private wsTransport(): WsTransport {
    this.ws ??= new WsTransport({
      endpoints: this.endpoints,
      token: this.options.token,
      apiKey: this.options.apiKey,
      webSocketImpl: this.options.webSocketImpl,
    });
    return this.ws;
  }

  /** Runs any typed operation; throws BeedeskError when the result has errors. */
  async request<TData, TVariables>(operation: Operation<TData, TVariables>, variables?: TVariables): Promise<TData> {
    const fields = await this.persisted.fieldsFor(operation.document);
    try {
      return await this.post<TData>({ ...fields, variables: variables ?? {} });
    } catch (error) {
      // APQ: the gateway does not know this hash (for this tenant) yet: send the text once to register it.
      if (!(error instanceof BeedeskError) || error.code !== 'PERSISTED_QUERY_NOT_FOUND' || !('extensions' in fields)) throw error;
      return this.post<TData>({ ...fields, query: operation.document, variables: variables ?? {} });
    }
  }

  private async post<TData>(payload: Record<string, unknown>): Promise<TData> {
    const body = JSON.stringify(payload);
    let response: Response;
    for (let attempt = 1; ; attempt++) {
      const url = this.endpoints.current();
      try {
        response = await this.fetchImpl(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...this.authHeaders() },
          body,
        });
        break;
      } catch (error) {
        if (!connectionFailed(error)) throw error;
        this.endpoints.failed(url);
        // Refused: it never ran, so the next gateway may run it. Otherwise it may have run: the caller decides.
        if (!neverSent(error) || attempt >= this.endpoints.urls.length) {
          throw new BeedeskError(`The gateway could not be reached (${url})`, 'CONNECTION_FAILED', [], 0);
        }
      }
    }
    return this.parse<TData>(response);
  }

  private async parse<TData>(response: Response): Promise<TData> {
    let body: RawResult<TData>;
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new BeedeskError(`HTTP ${response.status} without a GraphQL body`, 'BAD_RESPONSE', [], response.status);
    }
    return dataOf(body, response.status, 'The response has no data');
  }

  async startSession(): Promise<Session> {
    return (await this.request(ops.StartSession)).startSession;
  }

  async session(id: string, lastTurns?: number): Promise<SessionWithTurns | null> {
    return (await this.request(ops.GetSession, { id, last: lastTurns })).session;
  }

  async ask(sessionId: string, text: string, clientMessageId?: string): Promise<AskReceipt> {
    const receipt = (await this.request(ops.Ask, { sessionId, text, clientMessageId })).ask;
    this.followAsked(sessionId, receipt.answer.id);
    return receipt;
  }

  /** An answer asked in a session some `followAnswers` stream follows: followed from now on. */
  private followAsked(sessionId: string, answerId: string): void {
    for (const stream of this.following.get(sessionId) ?? []) stream.track(answerId);
  }

  async answer(id: string): Promise<Answer | null> {
    return (await this.request(ops.GetAnswer, { id })).answer;
  }

  /** Polls an answer until it is DONE, FALLBACK, FAILED or WITH_HUMAN (streaming comes with subscriptions). */
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

  /** Admins: the tenant's web widget settings (allowed origins, theme colour, greeting, position). */
  async updateWidgetSettings(input: WidgetSettingsInput): Promise<WidgetSettings> {
    return (await this.request(ops.UpdateWidgetSettings, { input })).updateWidgetSettings;
  }

  async updateTenant(name: string): Promise<Tenant> {
    return (await this.request(ops.UpdateTenant, { name })).updateTenant;
  }

  async inferenceStatus(): Promise<InferenceStatus> {
    return (await this.request(ops.GetInferenceStatus)).inferenceStatus;
  }

  // Human handoff: the customer's side.

  /** ask, also telling who the question went to (conversationState: BOT, or a person). */
  async askConversation(sessionId: string, text: string, clientMessageId?: string): Promise<ConversationAskReceipt> {
    const receipt = (await this.request(ops.AskConversation, { sessionId, text, clientMessageId })).ask;
    if (receipt.answer) this.followAsked(sessionId, receipt.answer.id);
    return receipt;
  }

  /** The customer's "talk to a person". */
  async requestHuman(sessionId: string, options: { team?: string; locale?: string } = {}): Promise<SessionHandoff> {
    return (await this.request(ops.RequestHuman, { sessionId, team: options.team, locale: options.locale })).requestHuman;
  }

  /** Who answers a session now, as its customer may see it. */
  async sessionHandoff(id: string): Promise<SessionHandoffView | null> {
    return (await this.request(ops.GetSessionHandoff, { id })).session;
  }

  /** Typing on or off (customers in their session, staff in a conversation); it switches itself off after a few seconds. */
  async setTyping(sessionId: string, typing: boolean): Promise<boolean> {
    return (await this.request(ops.SetTyping, { sessionId, typing })).setTyping;
  }

  // Human handoff: staff.

  async inbox(options: { filter?: InboxFilter; first?: number; after?: string } = {}): Promise<InboxPage> {
    return (await this.request(ops.Inbox, { filter: options.filter, first: options.first, after: options.after })).inbox;
  }

  async conversation(sessionId: string, lastTurns?: number): Promise<ConversationView | null> {
    return (await this.request(ops.GetConversation, { sessionId, lastTurns })).conversation;
  }

  async agents(): Promise<Agent[]> {
    return (await this.request(ops.GetAgents)).agents;
  }

  async myAgent(): Promise<Agent> {
    return (await this.request(ops.GetMyAgent)).myAgent;
  }

  async updateMyAgentProfile(input: AgentProfileInput): Promise<Agent> {
    return (await this.request(ops.UpdateMyAgentProfile, { input })).updateMyAgentProfile;
  }

  /** Admins: an agent's profile and capacity (null capacity: the tenant's default). */
  async updateAgent(agentId: string, input?: AgentProfileInput, capacity?: number | null): Promise<Agent> {
    return (await this.request(ops.UpdateAgent, { agentId, input, capacity })).updateAgent;
  }

  /** Takes a waiting (or bot) conversation; CONFLICT when another agent was first, CAPACITY_REACHED when full. */
  async claimConversation(sessionId: string): Promise<ConversationAssignment> {
    return (await this.request(ops.ClaimConversation, { sessionId })).claimConversation;
  }

  async assignConversation(sessionId: string, agentId: string): Promise<ConversationAssignment> {
    return (await this.request(ops.AssignConversation, { sessionId, agentId })).assignConversation;
  }

  async reassignConversation(sessionId: string, agentId: string, comment?: string): Promise<ConversationAssignment> {
    return (await this.request(ops.ReassignConversation, { sessionId, agentId, comment })).reassignConversation;
  }

  async releaseConversation(sessionId: string): Promise<ConversationRelease> {
    return (await this.request(ops.ReleaseConversation, { sessionId })).releaseConversation;
  }

  async sendAgentMessage(sessionId: string, text: string, clientMessageId?: string): Promise<HandoffMessage> {
    return (await this.request(ops.SendAgentMessage, { sessionId, text, clientMessageId })).sendAgentMessage;
  }

  async resolveConversation(sessionId: string, comment?: string): Promise<ConversationClosing> {
    return (await this.request(ops.ResolveConversation, { sessionId, comment })).resolveConversation;
  }

  async returnToBot(sessionId: string, comment?: string): Promise<ConversationClosing> {
    return (await this.request(ops.ReturnToBot, { sessionId, comment })).returnToBot;
  }

  async addInternalNote(sessionId: string, text: string): Promise<InternalNote> {
    return (await this.request(ops.AddInternalNote, { sessionId, text })).addInternalNote;
  }

  /** Staff: the tenant's handoff rules. */
  async handoffRules(): Promise<HandoffRules> {
    return (await this.request(ops.GetHandoffRules)).tenant.handoffRules;
  }

  /** Admins: change the tenant's handoff rules (fields left out keep their value). */
  async updateHandoffRules(input: HandoffRulesInput): Promise<HandoffRules> {
    return (await this.request(ops.UpdateHandoffRules, { input })).updateHandoffRules;
  }

  /** Erases all of the caller's own data (sessions, history, answers) in their tenant; any role. */
  async deleteMyData(): Promise<DataDeletion> {
    return (await this.request(ops.DeleteMyData)).deleteMyData;
  }

  /** Admins: erases every key of the caller's own tenant; `confirmTenantId` must repeat its id. */
  async eraseTenant(confirmTenantId: string): Promise<TenantErasure> {
    return (await this.request(ops.EraseTenant, { confirmTenantId })).eraseTenant;
  }

  /** Admins: a new partner API key; `secret` is shown only in this result, store it now. */
  async createApiKey(name: string, roles: Role[], options: { persistedOnly?: boolean } = {}): Promise<CreatedApiKey> {
    return (await this.request(ops.CreateApiKey, { name, roles, persistedOnly: options.persistedOnly })).createApiKey;
  }

  /** Admins: revokes a key (it fails from the next request on); false when unknown or already revoked. */
  async revokeApiKey(id: string): Promise<boolean> {
    return (await this.request(ops.RevokeApiKey, { id })).revokeApiKey;
  }

  /** Admins: the tenant's API keys, revoked ones included. */
  async apiKeys(): Promise<ApiKey[]> {
    return (await this.request(ops.GetApiKeys)).tenant.apiKeys;
  }
}

/** A result's data, or a BeedeskError carrying its first error's code (BAD_RESPONSE when there is neither). */
function dataOf<TData>(result: RawResult<TData>, status: number, noData: string): TData {
  if (result.errors?.length) {
    const first = result.errors[0]!;
    throw new BeedeskError(first.message, first.extensions?.code ?? 'UNKNOWN', result.errors, status);
  }
  if (result.data == null) throw new BeedeskError(noData, 'BAD_RESPONSE', [], status);
  return result.data;
}

function mapIterator<A, B>(source: AsyncIterableIterator<A>, map: (a: A) => B): AsyncIterableIterator<B> {
  const iterator: AsyncIterableIterator<B> = {
    next: async () => {
      const step = await source.next();
      return step.done ? { value: undefined, done: true } : { value: map(step.value), done: false };
    },
    return: async () => {
      await source.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
