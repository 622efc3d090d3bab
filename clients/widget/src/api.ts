import type { Locale } from './i18n';

/** The operation ids of the manifest (schema/persisted-operations.json), injected by the build. */
declare const __WIDGET_OPERATIONS__: Record<string, string>;
const OPERATIONS: Record<string, string> = __WIDGET_OPERATIONS__;

export type OperationName = 'WidgetStartSession' | 'WidgetAsk' | 'WidgetAnswer' | 'WidgetAnswerStream' | 'WidgetRateAnswer' | (string & {});

export const documentIdOf = (name: OperationName): string => {
  const id = OPERATIONS[name];
  if (!id) throw new Error(`unknown widget operation ${name}`);
  return id;
};

export interface WidgetSettings {
  themeColor: string;
  greeting: string;
  position: 'BOTTOM_RIGHT' | 'BOTTOM_LEFT';
}

export interface VisitorSession {
  token: string;
  expiresAt: number;
  visitorId: string | null;
  verified: boolean;
  settings: WidgetSettings;
}

/** A refusal with the platform's stable code (ORIGIN_NOT_ALLOWED, UNAUTHENTICATED, RATE_LIMITED…). */
export class WidgetError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status = 0,
  ) {
    super(message);
  }
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const errorOf = (body: GraphQLBody<unknown> | null, status: number): WidgetError => {
  const first = body?.errors?.[0];
  return new WidgetError(first?.message ?? `HTTP ${status}`, first?.extensions?.code ?? (status ? `HTTP_${status}` : 'NETWORK'), status);
};

export interface ApiOptions {
  gatewayUrl: string;
  widgetKey: string;
  identityToken?: string;
  locale: Locale;
  /** Where the anonymous visitor id is kept between page loads. */
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
}

/**
 * The widget's HTTP side: the widget-key exchange (`/widget/session`) and persisted operations on the
 * widget endpoint (`/widget/graphql`) with the visitor token, exchanged again shortly before it expires.
 */
export class WidgetApi {
  private session: Promise<VisitorSession> | null = null;
  private readonly visitorKey: string;

  constructor(private options: ApiOptions) {
    this.visitorKey = `beedesk:${options.widgetKey}:visitor`;
  }

  /** Identity-verified mode from now on (a host page whose user just logged in): the next exchange uses it. */
  identify(identityToken: string): void {
    this.options.identityToken = identityToken;
    this.session = null;
  }

  get gatewayUrl(): string {
    return this.options.gatewayUrl;
  }

  /** The current visitor session, exchanged when missing or within a minute of expiring. */
  visitor(force = false): Promise<VisitorSession> {
    const now = Date.now() / 1000;
    if (!force && this.session) {
      const pending = this.session;
      return pending.then((s) => (s.expiresAt - now > 60 ? s : this.visitor(true)));
    }
    const started = this.exchange();
    this.session = started;
    started.catch(() => {
      if (this.session === started) this.session = null;
    });
    return started;
  }

  async token(): Promise<string> {
    return (await this.visitor()).token;
  }

  private async exchange(): Promise<VisitorSession> {
    const { storage, widgetKey, identityToken } = this.options;
    let visitorId: string | null = null;
    try {
      visitorId = storage?.getItem(this.visitorKey) ?? null;
    } catch {
      visitorId = null;
    }
    let response: Response;
    try {
      // text/plain: a "simple" request, so no preflight round trip before the first message.
      response = await fetch(`${this.options.gatewayUrl}/widget/session`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify(identityToken ? { key: widgetKey, identityToken } : { key: widgetKey, visitorId }),
      });
    } catch {
      throw new WidgetError('network', 'NETWORK');
    }
    const body = (await response.json().catch(() => null)) as (VisitorSession & GraphQLBody<never>) | null;
    if (!response.ok || !body || !body.token) throw errorOf(body, response.status);
    if (body.visitorId) {
      try {
        storage?.setItem(this.visitorKey, body.visitorId);
      } catch {
        // Private mode: the visitor is new on every page load.
      }
    }
    return body;
  }

  /** Runs a persisted widget operation; refreshes the token once on UNAUTHENTICATED. */
  async run<T>(name: OperationName, variables: Record<string, unknown>, retried = false): Promise<T> {
    const token = await this.token();
    let response: Response;
    try {
      response = await fetch(`${this.options.gatewayUrl}/widget/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ documentId: documentIdOf(name), operationName: name, variables }),
      });
    } catch {
      throw new WidgetError('network', 'NETWORK');
    }
    const body = (await response.json().catch(() => null)) as GraphQLBody<T> | null;
    const error = body?.errors?.length || !body?.data ? errorOf(body, response.status) : null;
    if (error?.code === 'UNAUTHENTICATED' && !retried) {
      await this.visitor(true);
      return this.run(name, variables, true);
    }
    if (error) throw error;
    return body!.data as T;
  }
}
