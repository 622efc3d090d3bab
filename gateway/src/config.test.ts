import { applyCliArgs, subgraphUrlOverride } from './config';

describe('gateway command line', () => {
  it('maps flags onto their environment settings', () => {
    expect(applyCliArgs(['--supergraph', 'x.graphql', '--auth=none', '--port', '5000', '--force'], {})).toEqual({
      SUPERGRAPH_PATH: 'x.graphql',
      GATEWAY_AUTH: 'none',
      PORT: '5000',
      GATEWAY_AUTH_NONE_FORCE: 'true',
    });
    expect(() => applyCliArgs(['--bogus'], {})).toThrow(/unknown argument --bogus/);
  });

  it('overrides subgraph URLs by name', () => {
    expect(subgraphUrlOverride('inventory-v2', { SUBGRAPH_URL_INVENTORY_V2: 'http://a' })).toBe('http://a');
    expect(subgraphUrlOverride('tenant', { TENANT_URL: 'http://b' })).toBe('http://b');
    expect(subgraphUrlOverride('tenant', {})).toBeUndefined();
  });
});
