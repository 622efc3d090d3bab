import { composeBenchSupergraph, readCommittedSupergraph } from './compose';

describe('gateway benchmark supergraph', () => {
  it('the committed supergraph.graphql is current (regenerate with `node ops/dist/bench/gateway/compose.js`)', () => {
    expect(readCommittedSupergraph()).toBe(composeBenchSupergraph());
  });

  it('uses @requires, @provides and @external, and points every subgraph at loopback', () => {
    const sdl = composeBenchSupergraph(5000);
    expect(sdl).toContain('shippingEstimate: Int @join__field(graph: INVENTORY, requires: "price weight")');
    expect(sdl).toMatch(/author: User @join__field\(graph: REVIEWS, provides: "username"\)/);
    expect(sdl).toMatch(/external: true/);
    for (const [name, port] of [
      ['accounts', 5001],
      ['products', 5002],
      ['inventory', 5003],
      ['reviews', 5004],
    ] as const) {
      expect(sdl).toContain(`@join__graph(name: "${name}", url: "http://127.0.0.1:${port}/graphql")`);
    }
  });
});
