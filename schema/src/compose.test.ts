import { composeSupergraph, CompositionError, isSupergraphCurrent } from './compose';
import { readSupergraph, subgraphSdl, type SubgraphName } from './index';

describe('supergraph composition', () => {
  it('composes without errors and the committed supergraph is current (run `npm run compose` if this fails)', () => {
    expect(isSupergraphCurrent(readSupergraph())).toBe(true);
  });

  it('detects a stale supergraph when a subgraph changed', () => {
    const changed = (name: SubgraphName) =>
      name === 'tenant' ? subgraphSdl(name).replace('name: String!', 'name: String!\n  plan: String') : subgraphSdl(name);
    expect(isSupergraphCurrent(readSupergraph(), changed)).toBe(false);
  });

  it('reports composition errors instead of writing a broken supergraph', () => {
    // Two subgraphs resolving the same non-shareable field is a composition error.
    const conflicting = (name: SubgraphName) =>
      name === 'inference' ? `${subgraphSdl(name)}\ntype Turn { seq: Int! }\nextend type Query { lastTurn: Turn }` : subgraphSdl(name);
    expect(() => composeSupergraph(conflicting)).toThrow(CompositionError);
  });
});
