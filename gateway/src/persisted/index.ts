export { ApqStore, DEFAULT_APQ_CAPS, DEFAULT_APQ_TTL_SECONDS, type ApqCaps } from './apq-store';
export {
  defaultManifestPath,
  loadTrustedDocuments,
  manifestProblems,
  sha256Hex,
  TrustedDocuments,
  type ManifestOperation,
  type PersistedQueryManifest,
} from './manifest';
export { createPersistedDocuments, PersistedCodes, type PersistedDocuments, type ResolvedDocument } from './persisted-documents';
