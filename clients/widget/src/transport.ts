import { createClient, type Client } from 'graphql-ws';
import { documentIdOf, type OperationName, type WidgetApi } from './api';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting';

export interface StreamHandlers<T> {
  next(data: T): void;
  /** The stream is (again) live after a first connection or a reconnect: reconcile what may have been missed. */
  live(resumed: boolean): void;
  state(state: ConnectionState): void;
  /** A refusal that retrying will not fix (e.g. FORBIDDEN). */
  fatal(code: string): void;
}

export type TransportKind = 'auto' | 'ws' | 'sse';

/** Backoff between reconnects: 0.5 s doubling to 15 s, with jitter so visitors do not reconnect in step. */
export const backoffMs = (attempt: number): number => Math.min(15_000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One long-lived subscription (the session's answer stream) that survives drops: graphql-ws over a
 * WebSocket, or GraphQL over SSE (fetch streaming) when WebSockets are blocked or never connect.
 * Both reconnect with backoff and call `live(true)` once resubscribed, so the caller can re-read what
 * the drop may have cost (answers are resumed from their stored text and seq).
 */
export function subscribe<T>(
  api: WidgetApi,
  kind: TransportKind,
  operation: OperationName,
  variables: Record<string, unknown>,
  handlers: StreamHandlers<T>,
): () => void {
  let stopped = false;
  let stopCurrent: () => void = () => undefined;
  const useSse = () => {
    if (stopped) return;
    stopCurrent = subscribeSse(api, operation, variables, handlers);
  };
  if (kind === 'sse' || typeof WebSocket === 'undefined') useSse();
  else stopCurrent = subscribeWs(api, operation, variables, handlers, kind === 'auto' ? useSse : null);
  return () => {
    stopped = true;
    stopCurrent();
  };
}

function subscribeWs<T>(
  api: WidgetApi,
  operation: OperationName,
  variables: Record<string, unknown>,
  handlers: StreamHandlers<T>,
  fallback: (() => void) | null,
): () => void {
  let everConnected = false;
  let failures = 0;
  let stopped = false;
  const url = `${api.gatewayUrl.replace(/^http/, 'ws')}/graphql`;
  const client: Client = createClient({
    url,
    lazy: false,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => !stopped,
    retryWait: (retries) => sleep(backoffMs(retries)),
    connectionParams: async () => ({ authorization: `Bearer ${await api.token()}` }),
    on: {
      connecting: () => handlers.state(everConnected ? 'reconnecting' : 'connecting'),
      connected: () => {
        failures = 0;
        handlers.state('connected');
        // graphql-ws resubscribes on its own; give the subscribe a moment to reach the gateway first.
        const resumed = everConnected;
        everConnected = true;
        setTimeout(() => handlers.live(resumed), 150);
      },
      closed: (event) => {
        const code = (event as { code?: number } | undefined)?.code;
        // 4401: the visitor token ran out or was refused: the next connectionParams exchanges a new one.
        if (code === 4401) void api.visitor(true).catch(() => undefined);
        if (!everConnected && ++failures >= 2 && fallback && !stopped) {
          // WebSockets never came up (blocked by a proxy or a firewall): use SSE instead.
          stopped = true;
          void client.dispose();
          fallback();
          return;
        }
        if (!stopped) handlers.state(everConnected ? 'reconnecting' : 'connecting');
      },
    },
  });
  const unsubscribe = client.subscribe<T>(
    { query: '', extensions: {}, variables, operationName: operation, documentId: documentIdOf(operation) } as never,
    {
      next: (result) => {
        const code = result.errors?.[0]?.extensions?.['code'];
        if (result.errors?.length && typeof code === 'string') return handlers.fatal(code);
        if (result.data) handlers.next(result.data as T);
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  return () => {
    stopped = true;
    unsubscribe();
    void client.dispose();
  };
}

/** GraphQL over SSE (distinct connections: one POST per subscription), reconnecting with backoff. */
function subscribeSse<T>(
  api: WidgetApi,
  operation: OperationName,
  variables: Record<string, unknown>,
  handlers: StreamHandlers<T>,
): () => void {
  let stopped = false;
  let controller: AbortController | null = null;
  const run = async () => {
    let attempt = 0;
    let everLive = false;
    while (!stopped) {
      handlers.state(everLive ? 'reconnecting' : 'connecting');
      controller = new AbortController();
      let fatal = false;
      try {
        const response = await fetch(`${api.gatewayUrl}/widget/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'text/event-stream',
            authorization: `Bearer ${await api.token()}`,
          },
          body: JSON.stringify({ documentId: documentIdOf(operation), operationName: operation, variables }),
          signal: controller.signal,
        });
        if (response.status === 401) await api.visitor(true);
        if (response.ok && response.body) {
          handlers.state('connected');
          attempt = 0;
          const resumed = everLive;
          everLive = true;
          setTimeout(() => handlers.live(resumed), 150);
          fatal = await readEvents<T>(response.body, handlers);
        }
      } catch {
        // Dropped, refused or aborted: retried below unless stopped.
      }
      if (fatal || stopped) return;
      await sleep(backoffMs(attempt++));
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

/** Reads `event: next` / `event: complete` frames until the stream ends; true when a refusal ended it. */
async function readEvents<T>(body: ReadableStream<Uint8Array>, handlers: StreamHandlers<T>): Promise<boolean> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: ?(.*)$/m.exec(frame)?.[1];
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (event !== 'next' || !data) continue;
      const result = JSON.parse(data) as { data?: T; errors?: { extensions?: { code?: string } }[] };
      const code = result.errors?.[0]?.extensions?.code;
      if (code) {
        // The stream's credentials ran out: a new token and a new stream. Anything else is final.
        if (code === 'UNAUTHENTICATED') return false;
        handlers.fatal(code);
        return true;
      }
      if (result.data) handlers.next(result.data);
    }
  }
}
