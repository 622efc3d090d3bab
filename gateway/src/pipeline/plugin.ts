import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import type { Authentication, Credentials } from '../caller';
import type { GraphQLParams } from '../graphql-request';
import type { Refusal } from './refusal';

/** How the request arrived: one HTTP request (queries, mutations, SSE), or one graphql-ws connection. */
export type Transport = 'http' | 'graphql-ws';

export interface ConnectInput {
  transport: Transport;
  credentials: Credentials;
  requestId: string;
}

/** A caller admitted for one HTTP request or for the life of one graphql-ws connection. */
export interface AdmittedConnection extends Authentication {
  transport: Transport;
  /** The caller signed for subgraphs, fresh enough to be accepted now (useSignedContext). */
  signedContext: () => string;
}

/** Which document text a request runs (sent, or looked up by `documentId` or APQ hash). */
export interface DocumentSource {
  query: string;
  /** An APQ hash to register the text under once the operation is admitted. */
  registerAs?: string;
}

/** The operation to plan: its document (parsed and validated), the operation picked, and its cache keys. */
export interface AdmittedOperation {
  ok: true;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** sha256 of the query text: @apollo/gateway keys its query-plan cache with it. */
  queryHash: string;
  /** Identifies document + operation for the plan caches. */
  planKey: string;
  query: string;
}

/** Frees what an operation holds while it executes (an execution slot); calling it again does nothing. */
export type Release = () => void;

/** An admitted operation that got its turn: the transport must call `release` when it has finished executing. */
export interface ScheduledOperation extends AdmittedOperation {
  release: Release;
}

/** What the transport knows about the operation's caller while it waits for its turn. */
export interface ScheduleInput {
  /** Aborted when the client goes away (HTTP request closed, graphql-ws socket closed): stop waiting. */
  signal?: AbortSignal;
}

type Step<T> = T | Refusal | undefined | Promise<T | Refusal | undefined>;
type Check = Step<never>;

/**
 * One concern of admission, as graphql-yoga and Hive Gateway plugins are: each hook is optional and
 * runs at its phase, in the order the plugins are listed. The phases, in order:
 *
 * 1. `onAuthenticate`: who is calling (once per HTTP request, once per graphql-ws connection); the
 *    first plugin that answers decides.
 * 2. `onConnected`: adds to the admitted connection (the signed context).
 * 3. `onRequest`: each operation request before its body is read (HTTP) or looked at (graphql-ws).
 * 4. `onParams`: the request's parameters, before any document is looked up.
 * 5. `onResolveDocument`: which document text runs; the first plugin that answers decides
 *    (otherwise the `query` sent).
 * 6. `onPrepare`: the document parsed, validated and its operation picked; the first plugin that
 *    answers decides.
 * 7. `onOperation`: checks of the picked operation.
 * 8. `onAdmitted`: everything passed; last steps that must not happen for refused operations.
 * 9. `onSchedule`: the operation waits for its turn to execute (it may wait, or be refused for load)
 *    and answers the Release to call once it has executed. Its refusals are transient, so what phase 8
 *    did (an APQ registered) is right to keep for the client's retry.
 *
 * A hook refuses by returning a Refusal; the transport answers it in its own format.
 */
export interface AdmissionPlugin {
  name: string;
  onAuthenticate?(input: ConnectInput): Step<Authentication>;
  onConnected?(connection: AdmittedConnection): void;
  onRequest?(connection: AdmittedConnection): Check;
  onParams?(connection: AdmittedConnection, params: GraphQLParams): Check;
  onResolveDocument?(connection: AdmittedConnection, params: GraphQLParams): Step<DocumentSource>;
  onPrepare?(connection: AdmittedConnection, source: DocumentSource, params: GraphQLParams): Step<AdmittedOperation>;
  onOperation?(connection: AdmittedConnection, operation: AdmittedOperation, params: GraphQLParams): Check;
  onAdmitted?(connection: AdmittedConnection, operation: AdmittedOperation, source: DocumentSource): Check;
  onSchedule?(connection: AdmittedConnection, operation: AdmittedOperation, input: ScheduleInput): Step<Release>;
}
