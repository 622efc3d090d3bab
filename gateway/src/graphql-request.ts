import type { IncomingMessage } from 'node:http';
import { HttpError, readBody } from './http-io';

/** A GraphQL-over-HTTP request, checked for shape (not yet for meaning). */
export interface GraphQLParams {
  /** Absent when the request names a persisted document (`documentId` or `extensions.persistedQuery`). */
  query?: string;
  /** A trusted document's id (sha256 of its body) from the persisted-operation manifest. */
  documentId?: string;
  operationName?: string;
  variables?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
}

/** A JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJsonField(value: string | null, field: string): unknown {
  if (value === null || value === '') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', `\`${field}\` is not valid JSON.`);
  }
}

export function checkParams(raw: unknown): GraphQLParams {
  if (!isObject(raw)) throw new HttpError(400, 'BAD_REQUEST', 'The body must be a JSON object with a `query`.');
  const { query, documentId, operationName, variables, extensions } = raw;
  if (query != null && typeof query !== 'string') throw new HttpError(400, 'BAD_REQUEST', '`query` must be a string.');
  if (documentId != null && (typeof documentId !== 'string' || documentId === ''))
    throw new HttpError(400, 'BAD_REQUEST', '`documentId` must be a non-empty string.');
  const persisted = documentId != null || (isObject(extensions) && extensions.persistedQuery != null);
  // graphql-ws requires a `query` string, so an empty one counts as none.
  const hasQuery = typeof query === 'string' && query.trim() !== '';
  if (!hasQuery && !persisted)
    throw new HttpError(
      400,
      'BAD_REQUEST',
      'A `query` string is required (or a persisted document: `documentId` or `extensions.persistedQuery`).',
    );
  if (operationName != null && typeof operationName !== 'string')
    throw new HttpError(400, 'BAD_REQUEST', '`operationName` must be a string.');
  if (variables != null && !isObject(variables)) throw new HttpError(400, 'BAD_REQUEST', '`variables` must be an object.');
  if (extensions != null && !isObject(extensions)) throw new HttpError(400, 'BAD_REQUEST', '`extensions` must be an object.');
  return {
    query: hasQuery ? (query as string) : undefined,
    documentId: (documentId as string | null) ?? undefined,
    operationName: operationName ?? undefined,
    variables: (variables as Record<string, unknown> | null) ?? undefined,
    extensions: (extensions as Record<string, unknown> | null) ?? undefined,
  };
}

export async function readGraphQLParams(req: IncomingMessage, url: URL, maxBodyBytes: number): Promise<GraphQLParams> {
  if (req.method === 'GET') {
    const p = url.searchParams;
    return checkParams({
      query: p.get('query'),
      documentId: p.get('documentId'),
      operationName: p.get('operationName'),
      variables: parseJsonField(p.get('variables'), 'variables'),
      extensions: parseJsonField(p.get('extensions'), 'extensions'),
    });
  }
  if (req.method !== 'POST') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'Use GET or POST.', { allow: 'GET, POST' });
  const contentType = String(req.headers['content-type'] ?? '');
  if (!contentType.includes('json')) {
    throw new HttpError(415, 'BAD_REQUEST', 'Send the request as `Content-Type: application/json`.');
  }
  const body = await readBody(req, maxBodyBytes);
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'The body is not valid JSON.');
  }
  return checkParams(raw);
}
