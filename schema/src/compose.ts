import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { defaultSubgraphUrl, SUBGRAPHS, subgraphSdl, type SubgraphName } from './index';

export class CompositionError extends Error {
  constructor(readonly errors: string[]) {
    super(`Composition failed:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'CompositionError';
  }
}

/** Composes the subgraphs' SDL into a supergraph with @apollo/composition; throws on any error. */
export function composeSupergraph(sdlOf: (name: SubgraphName) => string = subgraphSdl): string {
  const result = composeServices(SUBGRAPHS.map((name) => ({ name, typeDefs: parse(sdlOf(name)), url: defaultSubgraphUrl(name) })));
  if (result.errors) throw new CompositionError(result.errors.map((e) => e.message));
  return result.supergraphSdl;
}

/** True when the committed supergraph is exactly what composing the current SDL gives. */
export function isSupergraphCurrent(committed: string, sdlOf?: (name: SubgraphName) => string): boolean {
  return committed === composeSupergraph(sdlOf);
}
