import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SUBGRAPHS = ['tenant', 'session', 'answer', 'inference', 'handoff'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

/** Default ports of the services (DESIGN: gateway 4000, tenant 4001, session 4002, answer 4003, inference 4004; handoff 4005). */
export const DEFAULT_PORTS: Record<SubgraphName | 'gateway', number> = {
  gateway: 4000,
  tenant: 4001,
  session: 4002,
  answer: 4003,
  inference: 4004,
  handoff: 4005,
};

export const schemaRoot = join(__dirname, '..');
export const supergraphPath = join(schemaRoot, 'supergraph.graphql');

export function subgraphSdl(name: SubgraphName): string {
  return readFileSync(join(schemaRoot, 'subgraphs', `${name}.graphql`), 'utf8');
}

export function readSupergraph(path: string = supergraphPath): string {
  return readFileSync(path, 'utf8');
}

export const defaultSubgraphUrl = (name: SubgraphName, host = '127.0.0.1'): string => `http://${host}:${DEFAULT_PORTS[name]}/graphql`;

export { clientDocumentFiles, clientsWithDocuments, repoRoot } from './documents';
