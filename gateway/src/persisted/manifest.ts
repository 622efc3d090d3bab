import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@beedesk/runtime';
import { schemaRoot } from '@beedesk/schema';
import { getOperationAST, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { isObject } from '../graphql-request';

/** beedesk's own trusted documents, generated from clients/ by `npm run manifest`. */
export const defaultManifestPath = join(schemaRoot, 'persisted-operations.json');

export type OperationType = 'query' | 'mutation' | 'subscription';

/** One entry of Apollo's persisted-query manifest: `id` is the sha256 (hex) of `body`. */
export interface ManifestOperation {
  id: string;
  name: string;
  type: OperationType;
  body: string;
}

export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: ManifestOperation[];
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The documents the gateway trusts, by manifest id. */
export class TrustedDocuments {
  private readonly byId: ReadonlyMap<string, ManifestOperation>;

  constructor(operations: readonly ManifestOperation[] = []) {
    this.byId = new Map(operations.map((operation) => [operation.id, operation]));
  }

  get(id: string): ManifestOperation | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  static readonly none = new TrustedDocuments();
}

const OPERATION_TYPES: ReadonlySet<string> = new Set(['query', 'mutation', 'subscription']);

/**
 * Checks a manifest's shape, that every id is the sha256 of its body and that every body is one
 * valid operation of `schema` with the declared name and type. Returns every problem at once.
 */
export function manifestProblems(manifest: unknown, schema: GraphQLSchema): string[] {
  if (!isObject(manifest)) return ['the manifest is not a JSON object'];
  const problems: string[] = [];
  if (manifest.format !== 'apollo-persisted-query-manifest') problems.push('`format` must be "apollo-persisted-query-manifest"');
  if (manifest.version !== 1) problems.push('`version` must be 1');
  if (!Array.isArray(manifest.operations)) return [...problems, '`operations` must be an array'];
  manifest.operations.forEach((entry: unknown, index) => {
    const at = `operations[${index}]`;
    if (!isObject(entry)) return void problems.push(`${at} is not an object`);
    const { id, name, type, body } = entry;
    if (typeof id !== 'string' || typeof name !== 'string' || typeof body !== 'string' || typeof type !== 'string') {
      return void problems.push(`${at} needs string \`id\`, \`name\`, \`type\` and \`body\``);
    }
    if (!OPERATION_TYPES.has(type)) problems.push(`${at} (${name}): \`type\` must be query, mutation or subscription`);
    if (sha256Hex(body) !== id) problems.push(`${at} (${name}): \`id\` is not the sha256 of \`body\``);
    let document: DocumentNode;
    try {
      document = parse(body);
    } catch (error) {
      return void problems.push(`${at} (${name}): ${(error as Error).message}`);
    }
    const errors = validate(schema, document);
    if (errors.length > 0) return void problems.push(`${at} (${name}): ${errors.map((e) => e.message).join(' ')}`);
    const operation = getOperationAST(document);
    if (!operation) return void problems.push(`${at} (${name}): the body must hold exactly one operation`);
    if (operation.name?.value !== name)
      problems.push(`${at}: \`name\` is ${name} but the operation is named ${operation.name?.value ?? '(anonymous)'}`);
    if (operation.operation !== type) problems.push(`${at} (${name}): \`type\` is ${type} but the operation is a ${operation.operation}`);
  });
  return problems;
}

/** Reads and checks a manifest file; throws a ConfigError listing every problem, so a gateway fails at start. */
export function loadTrustedDocuments(path: string, schema: GraphQLSchema): TrustedDocuments {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError([`PERSISTED_OPERATIONS_PATH: cannot read the manifest ${path}: ${(error as Error).message}`]);
  }
  const problems = manifestProblems(manifest, schema);
  if (problems.length > 0) throw new ConfigError(problems.map((problem) => `PERSISTED_OPERATIONS_PATH: ${path}: ${problem}`));
  return new TrustedDocuments((manifest as PersistedQueryManifest).operations);
}
