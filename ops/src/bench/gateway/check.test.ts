import { ResponseChecker } from './check';
import { generateDataset, indexDataset } from './data';
import { expectedBody, QUERIES } from './queries';
import { percentile, ratios, type Row } from './run';

const body = JSON.stringify({ data: { users: [{ id: '1', name: 'Ada' }], topProducts: [{ upc: '1' }] } });

describe('benchmark data', () => {
  it('is deterministic and ASCII-only', () => {
    const a = generateDataset();
    expect(generateDataset()).toEqual(a);
    expect(JSON.stringify(a)).toMatch(/^[\x20-\x7e]*$/);
  });

  it('gives expected bodies with every query field in selection order', () => {
    const ix = indexDataset(generateDataset());
    const nested = QUERIES.find((q) => q.name === 'nested');
    const list = QUERIES.find((q) => q.name === 'list');
    if (!nested || !list) throw new Error('queries missing');
    const data = JSON.parse(expectedBody(nested, ix)).data;
    expect(Object.keys(data)).toEqual(['users', 'topProducts']);
    expect(Object.keys(data.users[0])).toEqual(['id', 'username', 'name', 'reviews']);
    expect(Object.keys(data.topProducts[0])).toEqual(['inStock', 'name', 'price', 'shippingEstimate', 'upc', 'weight', 'reviews']);
    const top = JSON.parse(expectedBody(list, ix)).data.topProducts;
    expect(top).toHaveLength(20);
    expect(Object.keys(top[0])).toEqual(['upc', 'name', 'price', 'weight', 'inStock', 'shippingEstimate']);
  });
});

describe('ResponseChecker', () => {
  it('accepts the exact body and counts non-2xx', () => {
    const c = new ResponseChecker(body);
    expect(c.check(200, body)).toBe(true);
    expect(c.check(500, body)).toBe(false);
    expect([c.ok, c.non2xx, c.wrong]).toEqual([1, 1, 0]);
  });

  it('accepts a trailing newline or another key order as a noted variant, and counts repeats on the fast path', () => {
    const c = new ResponseChecker(body);
    expect(c.check(200, `${body}\n`)).toBe(true);
    expect(c.check(200, `${body}\n`)).toBe(true);
    const reordered = JSON.stringify({ data: { topProducts: [{ upc: '1' }], users: [{ name: 'Ada', id: '1' }] } });
    expect(c.check(200, reordered)).toBe(true);
    const notes = [...c.variants.values()].map((v) => `${v.note} ${v.count}`);
    expect(notes).toEqual([
      'same data; formatting only: trailing whitespace 2',
      'same data; key order differs at data: got [topProducts, users], expected [users, topProducts] 1',
    ]);
  });

  it('refuses another key order with strictOrder, and wrong data or errors always', () => {
    const reordered = JSON.stringify({ data: { topProducts: [{ upc: '1' }], users: [{ id: '1', name: 'Ada' }] } });
    expect(new ResponseChecker(body, true).check(200, reordered)).toBe(false);
    const c = new ResponseChecker(body);
    expect(c.check(200, body.replace('Ada', 'Bob'))).toBe(false);
    expect(c.firstWrong?.reason).toBe('at data.users[0].name: got "Bob", expected "Ada"');
    expect(c.check(200, JSON.stringify({ data: null, errors: [{ message: 'boom' }] }))).toBe(false);
    expect(c.check(200, 'not json')).toBe(false);
    expect(c.wrong).toBe(3);
  });
});

describe('report helpers', () => {
  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99)]).toEqual([50, 95, 99]);
  });

  it('computes ours ÷ peer ratios only for gateways that ran', () => {
    const row = (gateway: Row['gateway'], rps: number, p99Ms: number, cpuMsPerRequest: number): Row => ({
      gateway,
      query: 'list',
      status: 'ok',
      rps,
      p99Ms,
      cpuMsPerRequest,
    });
    const list = ratios([
      row('ours', 200, 10, 1),
      row('hive', 100, 20, 2),
      { gateway: 'apollo', query: 'list', status: 'failed to start' },
    ]);
    expect(list).toEqual([{ query: 'list', peer: 'hive', rps: 2, p99: 0.5, cpuPerRequest: 0.5 }]);
  });
});
