/** Composition of the benchmark's four subgraphs into a supergraph, and the ports everything listens on. */
import { composeServices } from '@apollo/composition';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'graphql';
import { HOST } from './proc';
import { SUBGRAPH_NAMES, SUBGRAPH_SDL, type SubgraphName } from './subgraphs';

export { HOST };
/** Subgraphs listen on base+1..base+4, the gateways on base+10.. (see run.ts). */
export const DEFAULT_BASE_PORT = 4800;

export function subgraphPort(name: SubgraphName, basePort = DEFAULT_BASE_PORT): number {
  return basePort + 1 + SUBGRAPH_NAMES.indexOf(name);
}

export function subgraphUrl(name: SubgraphName, basePort = DEFAULT_BASE_PORT): string {
  return `http://${HOST}:${subgraphPort(name, basePort)}/graphql`;
}

/** Composes the scenario with @apollo/composition; throws with every composition error on failure. */
export function composeBenchSupergraph(basePort = DEFAULT_BASE_PORT): string {
  const result = composeServices(
    SUBGRAPH_NAMES.map((name) => ({ name, typeDefs: parse(SUBGRAPH_SDL[name]), url: subgraphUrl(name, basePort) })),
  );
  if (result.errors) throw new Error(`Composition failed:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`);
  return result.supergraphSdl;
}

/**
 * The committed copy (composed with the default ports), kept for reading and for other tools; the
 * benchmark itself composes afresh at run time. Read from the source tree, which is where it lives
 * both under ts-jest (src/bench/gateway) and from the compiled dist/bench/gateway (../../../src/...).
 */
export function committedSupergraphPath(): string {
  const beside = join(__dirname, 'supergraph.graphql');
  return existsSync(beside) ? beside : join(__dirname, '..', '..', '..', 'src', 'bench', 'gateway', 'supergraph.graphql');
}

export function readCommittedSupergraph(): string {
  return readFileSync(committedSupergraphPath(), 'utf8');
}

/** Rewrites the committed copy (`node ops/dist/bench/gateway/compose.js`). */
export function writeCommittedSupergraph(): string {
  const path = committedSupergraphPath();
  writeFileSync(path, composeBenchSupergraph());
  return path;
}

if (require.main === module) {
  console.log(`wrote ${writeCommittedSupergraph()}`);
}
