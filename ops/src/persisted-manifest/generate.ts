import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaRoot } from '@beedesk/schema';
import { ALL_OPERATIONS, type PersistedQueryManifest } from '@beedesk/sdk';
import { Kind, parse } from 'graphql';
import { repoRoot } from '../cluster';

/** Where the manifest lives: beside the supergraph, where the gateway loads it by default. */
export const manifestPath = join(schemaRoot, 'persisted-operations.json');
/** The partner example's operations: plain GraphQL, so the example itself needs no dependency. */
export const partnerOperationsPath = join(repoRoot, 'clients', 'partner-example', 'src', 'operations.graphql');

/** One entry of Apollo's persisted-query manifest (the format the SDK reads). */
export type ManifestOperation = PersistedQueryManifest['operations'][number];

/** A document as a client sends it: the body is hashed byte for byte, so it is never reformatted. */
export interface ClientDocument {
  origin: string;
  body: string;
}

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** One named operation per document, no fragments: each body is exactly what a client sends. */
function operationOf(document: ClientDocument): ManifestOperation {
  const definitions = parse(document.body).definitions;
  const operation = definitions[0];
  if (definitions.length !== 1 || operation?.kind !== Kind.OPERATION_DEFINITION) {
    throw new Error(`${document.origin}: a persisted document must hold exactly one operation (and no fragments)`);
  }
  if (!operation.name) throw new Error(`${document.origin}: persisted operations must be named`);
  return { id: sha256Hex(document.body), name: operation.name.value, type: operation.operation, body: document.body };
}

/** The manifest of `documents`, sorted by name; the same name may not stand for two different bodies. */
export function buildManifest(documents: readonly ClientDocument[]): PersistedQueryManifest {
  const byName = new Map<string, ManifestOperation>();
  for (const document of documents) {
    const operation = operationOf(document);
    const seen = byName.get(operation.name);
    if (seen && seen.id !== operation.id) throw new Error(`${document.origin}: another document is already named ${operation.name}`);
    byName.set(operation.name, operation);
  }
  const operations = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  return { format: 'apollo-persisted-query-manifest', version: 1, operations };
}

/** Each operation of a .graphql file as its own document: its exact source text. */
export function splitGraphQLFile(origin: string, source: string): ClientDocument[] {
  return parse(source).definitions.map((definition) => {
    if (!definition.loc) throw new Error(`${origin}: cannot locate a definition`);
    return { origin, body: source.slice(definition.loc.start, definition.loc.end) };
  });
}

/** The documents of clients/: the SDK's operations and the partner example's. */
export function clientDocuments(): ClientDocument[] {
  const sdk = Object.entries(ALL_OPERATIONS).map(([name, operation]) => ({ origin: `@beedesk/sdk ${name}`, body: operation.document }));
  const partner = splitGraphQLFile('clients/partner-example/src/operations.graphql', readFileSync(partnerOperationsPath, 'utf8'));
  return [...sdk, ...partner];
}

export const manifestText = (manifest: PersistedQueryManifest): string => `${JSON.stringify(manifest, null, 2)}\n`;
