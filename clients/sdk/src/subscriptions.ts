import { createClient, type Client } from 'graphql-ws';
import type { Endpoints } from './endpoints';
import { PushQueue } from './subscribe-queue';

export type SubscriptionProtocol = 'graphql-ws' | 'sse';

export interface RawErrorPayload {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** One result of a subscription as it travels: data and/or errors. */
export interface RawResult<TData> {
  data?: TData | null;
  errors?: RawErrorPayload[];
}

/** What a transport failure (not a GraphQL error) turns into. */
export class TransportClosed extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** graphql-ws close codes of the gateway → stable codes. */
function closeToError(event: unknown): TransportClosed {
  const code = event && typeof event === 'object' && 'code' in event ? Number((event as { code: unknown }).code) : 0;
  const reason = event && typeof event === 'object' && 'reason' in event ? String((event as { reason: unknown }).reason) : '';
  const known: Record<number, string> = {
    4401: 'UNAUTHENTICATED',
    4403: 'FORBIDDEN',
    4430: 'CONNECTION_LIMIT_REACHED',
    1008: 'SLOW_CONSUMER',
    1001: 'SERVICE_UNAVAILABLE',
  };
  const message = code
    ? `The connection closed (${code}${reason ? `: ${reason}` : ''})`
    : event instanceof Error
      ? event.message
      : 'The connection failed';
  return new TransportClosed(message, known[code] ?? 'CONNECTION_CLOSED', code);
}

export interface WsTransportOptions {
  /** The gateways to connect to: each (re)connection goes to the current one; a dropped socket moves on. */
  endpoints: Endpoints;
  token?: string;
  /** A partner API key, sent as `connectionParams.apiKey` (instead of a token). */
  apiKey?: string;
  /** A WebSocket class (e.g. `ws` on Node 20); Node 22+ and browsers have one built in. */
  webSocketImpl?: unknown;
}

/** One graphql-ws connection per client, shared by its subscriptions, opened on first use. */
export class WsTransport {
  private client: Client | null = null;

  constructor(private readonly options: WsTransportOptions) {}

  subscribe<TData>(query: string, variables: Record<string, unknown>): PushQueue<RawResult<TData>> {
    let unsubscribe: () => void = () => undefined;
    const queue = new PushQueue<RawResult<TData>>(() => unsubscribe());
    unsubscribe = this.connection().subscribe(
      { query, variables },
      {
        next: (result) => queue.push(result as RawResult<TData>),
        // A graphql-ws `error` message is a list of GraphQL errors; anything else is the socket closing.
        error: (error: unknown) =>
          Array.isArray(error) ? (queue.push({ errors: error as RawErrorPayload[] }), queue.end()) : queue.end(closeToError(error)),
        complete: () => queue.end(),
      },
    );
    return queue;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.dispose();
  }

  private connection(): Client {
    if (this.client) return this.client;
    const impl = this.options.webSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket;
    if (!impl) throw new Error('No WebSocket implementation: pass `webSocketImpl` (e.g. the `ws` package) on Node.js 20.');
    let connectedTo = this.options.endpoints.current();
    this.client = createClient({
      url: () => (connectedTo = this.options.endpoints.current()).replace(/^http/, 'ws'),
      webSocketImpl: impl,
      connectionParams: {
        ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
        ...(this.options.apiKey ? { apiKey: this.options.apiKey } : {}),
      },
      lazy: true,
      // Resubscribing is the caller's choice: events in between are not replayed (`followAnswers` resumes).
      retryAttempts: 0,
      on: {
        // A socket that failed or closed other than normally (1000) or by our dispose: that gateway is gone
        // or going (1001 is its shutdown), so the next connection tries the next one.
        closed: (event) => {
          const code = event && typeof event === 'object' && 'code' in event ? Number((event as { code: unknown }).code) : 0;
          if (code !== 1000) this.options.endpoints.failed(connectedTo);
        },
        error: () => this.options.endpoints.failed(connectedTo),
      },
    });
    return this.client;
  }
}

/** GraphQL over SSE (distinct connections): one POST with `Accept: text/event-stream` per subscription. */
export function subscribeSse<TData>(
  fetchImpl: typeof fetch,
  url: string,
  headers: Record<string, string>,
  query: string,
  variables: Record<string, unknown>,
): PushQueue<RawResult<TData>> {
  const abort = new AbortController();
  const queue = new PushQueue<RawResult<TData>>(() => abort.abort());
  void (async () => {
    const response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify({ query, variables }),
      signal: abort.signal,
    });
    if (!response.ok || !String(response.headers.get('content-type')).includes('text/event-stream')) {
      // Refused before streaming (401, validation): a GraphQL error body.
      const body = (await response.json().catch(() => ({}))) as RawResult<TData>;
      queue.push(body.errors ? body : { errors: [{ message: `HTTP ${response.status}`, extensions: { code: 'BAD_RESPONSE' } }] });
      return queue.end();
    }
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let boundary: number;
      while ((boundary = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, boundary);
        buffered = buffered.slice(boundary + 2);
        let event = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trimStart();
        }
        if (event === 'next' && data) queue.push(JSON.parse(data) as RawResult<TData>);
        if (event === 'complete') {
          abort.abort();
          return queue.end();
        }
      }
    }
    queue.end();
  })().catch((error: unknown) => {
    if (!abort.signal.aborted) queue.end(new TransportClosed((error as Error).message ?? 'SSE stream failed', 'CONNECTION_CLOSED', 0));
    else queue.end();
  });
  return queue;
}
