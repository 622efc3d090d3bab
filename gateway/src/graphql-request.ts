import type { IncomingMessage } from 'node:http';
import { HttpError, readBody } from './http-io';

/** A GraphQL-over-HTTP request, checked for shape (not yet for meaning). */
export interface GraphQLParams {
  query: string;
  operationName?: string;
  variables?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
  const { query, operationName, variables, extensions } = raw;
  if (typeof query !== 'string' || query.trim() === '') throw new HttpError(400, 'BAD_REQUEST', 'A `query` string is required.');
  if (operationName != null && typeof operationName !== 'string') throw new HttpError(400, 'BAD_REQUEST', '`operationName` must be a string.');
  if (variables != null && !isObject(variables)) throw new HttpError(400, 'BAD_REQUEST', '`variables` must be an object.');
  if (extensions != null && !isObject(extensions)) throw new HttpError(400, 'BAD_REQUEST', '`extensions` must be an object.');
  return {
    query,
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
