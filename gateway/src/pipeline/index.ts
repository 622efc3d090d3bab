export { createAdmission, type Admission } from './admission';
export { DocumentCache, type Prepared, type PreparedDocument } from './document-cache';
export type {
  AdmissionPlugin,
  AdmittedConnection,
  AdmittedOperation,
  ConnectInput,
  DocumentSource,
  Release,
  ScheduledOperation,
  ScheduleInput,
  Transport,
} from './plugin';
export { refusal, type Refusal } from './refusal';
export { useAuthentication, type GatewayMode } from './useAuthentication';
export { DEFAULT_DOCUMENT_SETTINGS, useDocument, type DocumentSettings } from './useDocument';
export { useOperationLimits } from './useOperationLimits';
export { usePersistedDocuments } from './usePersistedDocuments';
export { useRateLimit } from './useRateLimit';
export { useTenantFairShare } from './useTenantFairShare';
export { useSignedContext } from './useSignedContext';
export {
  GATEWAY_TRACER,
  operationAttributes,
  operationTypeOf,
  persistedDocumentId,
  startOperationSpan,
  traceHttpRequest,
  useTracing,
} from './useTracing';
export { useVisitorTokens } from './useVisitorTokens';
