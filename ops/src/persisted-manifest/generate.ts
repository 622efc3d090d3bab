import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientDocumentFiles, clientsWithDocuments, repoRoot, schemaRoot } from '@beedesk/schema';
import { persistedText, type PersistedQueryManifest } from '@beedesk/sdk';
import { Kind, parse, print } from 'graphql';

/** Where the manifest lives: beside the supergraph, where the gateway loads it by default. */
export const manifestPath = join(schemaRoot, 'persisted-operations.json');

/** One entry of Apollo's persisted-query manifest (the format the SDK reads). */
export type ManifestOperation = PersistedQueryManifest['operations'][number];

/** A document as a client sends it: the body is hashed byte for byte as given. */
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

/**
 * The documents of clients/: each operation of every client's `.graphql` files (the files `npm run codegen`
 * types) in its persisted text (the SDK's persistedText: graphql-js's print on one line), which is what the
 * generated typed documents are sent as, so manifest ids and APQ hashes agree.
 */
export function clientDocuments(): ClientDocument[] {
  return clientsWithDocuments().flatMap((client) =>
    clientDocumentFiles(client).flatMap((file) =>
      splitGraphQLFile(file, readFileSync(join(repoRoot, file), 'utf8')).map(({ origin, body }) => {
        const printed = print(parse(body));
        // One line would change a block string's value.
        if (printed.includes('"""')) throw new Error(`${origin}: a persisted document may not hold a block string`);
        return { origin, body: persistedText(printed) };
      }),
    ),
  );
}

export const manifestText = (manifest: PersistedQueryManifest): string => `${JSON.stringify(manifest, null, 2)}\n`;
