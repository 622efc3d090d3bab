import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  activeContext,
  activeSpan,
  ATTR,
  contextWith,
  extractTraceContext,
  failSpan,
  SpanKind,
  tracer,
  type Attributes,
  type Context,
  type Span,
} from '@beedesk/runtime';
import type { OperationDefinitionNode } from 'graphql';
import type { GraphQLParams } from '../graphql-request';
import type { OperationType } from '../telemetry';
import type { AdmissionPlugin } from './plugin';

/** Instrumentation scope of the gateway's spans. */
export const GATEWAY_TRACER = '@beedesk/gateway';

export const operationTypeOf = (operation: OperationDefinitionNode | undefined): OperationType => operation?.operation ?? 'unknown';

/** A persisted operation's id (trusted document id or APQ hash; both the sha256 of its text), else none. */
export function persistedDocumentId(params: GraphQLParams, queryHash: string): string | undefined {
  const persisted = params.documentId !== undefined || (params.extensions && 'persistedQuery' in params.extensions);
  return persisted ? queryHash : undefined;
}

/**
 * GraphQL semantic-convention attributes of an operation: its type, its name, the persisted
 * document's id, the tenant. Never the document text (nor variables: they carry questions).
 */
export function operationAttributes(operation: OperationDefinitionNode, tenantId: string, documentId?: string): Attributes {
  const attributes: Attributes = { 'graphql.operation.type': operation.operation, [ATTR.tenant]: tenantId };
  if (operation.name) attributes['graphql.operation.name'] = operation.name.value;
  if (documentId) attributes[ATTR.documentId] = documentId;
  return attributes;
}

/**
 * The admission pipeline's tracing hook: names the caller's tenant and, once admitted, the operation
 * on the span of the request being admitted (the HTTP server span; a graphql-ws subscribe's span).
 */
export function useTracing(): AdmissionPlugin {
  return {
    name: 'useTracing',
    onConnected(connection) {
      activeSpan()?.setAttribute(ATTR.tenant, connection.caller.tenantId);
    },
    onOperation(connection, operation, params) {
      const span = activeSpan();
      if (span?.isRecording()) {
        span.setAttributes(
          operationAttributes(operation.operation, connection.caller.tenantId, persistedDocumentId(params, operation.queryHash)),
        );
      }
      return undefined;
    },
  };
}

/**
 * The HTTP SERVER span of a `/graphql` request (HTTP semantic conventions), continuing the caller's
 * `traceparent` when it sends one; ends when the response is finished or the connection closes.
 * A 5xx answer marks it failed. Returns the context to handle the request in.
 */
export function traceHttpRequest(req: IncomingMessage, res: ServerResponse, route: string): Context {
  const parent = extractTraceContext(req.headers as Record<string, unknown>);
  const method = req.method ?? 'GET';
  const span = tracer(GATEWAY_TRACER).startSpan(
    `${method} ${route}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': method,
        'http.route': route,
        'url.path': route,
        'url.scheme': 'http',
        'network.protocol.name': 'http',
      },
    },
    parent,
  );
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) failSpan(span, new Error(`HTTP ${res.statusCode}`), `${method} ${route}`);
    span.end();
  };
  res.once('finish', end);
  res.once('close', end);
  return contextWith(span, parent);
}

/** A span for one operation, started in the active context, with the operation's attributes. */
export function startOperationSpan(operation: OperationDefinitionNode, attributes: Attributes, parent: Context = activeContext()): Span {
  return tracer(GATEWAY_TRACER).startSpan(operation.operation, { kind: SpanKind.INTERNAL, attributes }, parent);
}
