import type { PersistedDocuments } from '../persisted';
import type { AdmissionPlugin } from './plugin';
import { refusal } from './refusal';

/**
 * Trusted documents (`documentId`), automatic persisted queries (looked up, or registered once the
 * operation is admitted: only documents that parse, validate and pass the limits are stored) and
 * persisted-only callers.
 */
export function usePersistedDocuments(persisted: PersistedDocuments): AdmissionPlugin {
  return {
    name: 'usePersistedDocuments',
    async onResolveDocument(connection, params) {
      const resolved = await persisted.resolve(connection, params);
      if (!resolved.ok) return refusal(resolved.status, resolved.code, resolved.message, undefined, resolved.extensions);
      return resolved;
    },
    async onAdmitted(connection, _operation, source) {
      if (source.registerAs === undefined) return undefined;
      const refused = await persisted.register(connection, source.registerAs, source.query);
      return refused ? refusal(refused.status, refused.code, refused.message, undefined, refused.extensions) : undefined;
    },
  };
}
