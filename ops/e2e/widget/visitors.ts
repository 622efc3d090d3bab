import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaRoot } from '@beedesk/schema';

/** The persisted-operation manifest's ids by name (the widget sends these as documentId). */
export function manifestIds(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(schemaRoot, 'persisted-operations.json'), 'utf8')) as {
    operations: { id: string; name: string }[];
  };
  return Object.fromEntries(manifest.operations.map((o) => [o.name, o.id]));
}

export interface Exchanged {
  status: number;
  headers: Headers;
  body: {
    token?: string;
    expiresAt?: number;
    visitorId?: string | null;
    settings?: { themeColor: string; greeting: string; position: string };
    errors?: { message: string; extensions?: { code?: string; scope?: string } }[];
  };
}

/** POST /widget/session as a page of `origin` would (text/plain, no preflight). */
export async function exchange(gatewayBase: string, origin: string | null, body: Record<string, unknown>): Promise<Exchanged> {
  const response = await fetch(`${gatewayBase}/widget/session`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', ...(origin ? { origin } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Exchanged['body'] };
}

/** A widget operation by documentId on the widget endpoint (or /graphql), as a visitor. */
export async function widgetCall(
  gatewayBase: string,
  token: string,
  origin: string,
  request: { documentId?: string; query?: string; variables?: Record<string, unknown> },
  path = '/widget/graphql',
): Promise<{
  status: number;
  text: string;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}> {
  const response = await fetch(`${gatewayBase}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, origin },
    body: JSON.stringify(request),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as never };
}

/** Sets a tenant's widget settings as its admin; returns the public key. */
export async function allowOrigins(graphqlUrl: string, adminToken: string, origins: string[]): Promise<string> {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      query: 'mutation($o: [String!]) { updateWidgetSettings(input: { allowedOrigins: $o, themeColor: "#0b6e4f" }) { key } }',
      variables: { o: origins },
    }),
  });
  const body = (await response.json()) as { data?: { updateWidgetSettings: { key: string } }; errors?: unknown };
  if (!body.data) throw new Error(`updateWidgetSettings: ${JSON.stringify(body.errors)}`);
  return body.data.updateWidgetSettings.key;
}

export async function adminQuery<T>(
  graphqlUrl: string,
  adminToken: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(`${query.slice(0, 40)}: ${JSON.stringify(body.errors)}`);
  return body.data;
}
