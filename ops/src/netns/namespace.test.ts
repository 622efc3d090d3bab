import { NetworkNamespace } from './namespace';

describe('NetworkNamespace addresses', () => {
  it('gives each block its own /30: the ports of two checkouts 1000 apart do not share a subnet', () => {
    const a = new NetworkNamespace('bdcut16587', 16587);
    const b = new NetworkNamespace('bdcut17587', 17587);
    expect([a.hostAddress, a.innerAddress]).toEqual(['10.231.3.45', '10.231.3.46']);
    expect(b.hostAddress).not.toBe(a.hostAddress);
    const subnets = new Set(Array.from({ length: 16384 }, (_, i) => new NetworkNamespace('x', i).hostAddress));
    expect(subnets.size).toBe(16384);
  });

  it('refuses a name too long for its veth interfaces', () => {
    expect(() => new NetworkNamespace('a-name-far-too-long', 1)).toThrow(/too long/);
  });
});
