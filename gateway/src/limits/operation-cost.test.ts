import { Supergraph } from '@apollo/federation-internals';
import { readSupergraph } from '@beedesk/schema';
import { getOperationAST, parse, validate, type GraphQLSchema } from 'graphql';
import { costAnnotationsOf } from './cost-model';
import { CostAnalyzer } from './operation-cost';

const supergraphSdl = readSupergraph();
const schema: GraphQLSchema = Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
const analyzer = () => new CostAnalyzer({ schema, annotations: costAnnotationsOf(supergraphSdl), defaultListSize: 10 });

function measure(query: string, variables?: Record<string, unknown>, on = analyzer()) {
  const document = parse(query);
  expect(validate(schema, document)).toEqual([]);
  return on.measure(document, getOperationAST(document)!, variables);
}

describe('cost annotations from the supergraph', () => {
  it('reads @listSize on Session.turns (composed from the session subgraph)', () => {
    expect(costAnnotationsOf(supergraphSdl).listSize('Session', 'turns')).toEqual({ assumedSize: 100, slicingArguments: ['last'] });
  });

  it('follows renamed imports of the cost spec', () => {
    const sdl = `
      schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/cost/v0.1", as: "price", import: [{ name: "@listSize", as: "@size" }]) { query: Query }
      type Query { items(first: Int): [Item!]! @size(assumedSize: 7, slicingArguments: ["first"]) expensive: Int @price(weight: 40) }
      type Item @price(weight: 3) { id: ID! }`;
    const annotations = costAnnotationsOf(sdl);
    expect(annotations.listSize('Query', 'items')).toEqual({ assumedSize: 7, slicingArguments: ['first'] });
    expect(annotations.fieldWeight('Query', 'expensive')).toBe(40);
    expect(annotations.typeWeight('Item')).toBe(3);
  });

  it('reads nothing from a supergraph that does not link the cost spec', () => {
    const annotations = costAnnotationsOf(
      'type Query { items: [Int] @listSize(assumedSize: 3) }\ndirective @listSize(assumedSize: Int) on FIELD_DEFINITION',
    );
    expect(annotations.listSize('Query', 'items')).toBeUndefined();
  });
});

describe('operation depth and cost', () => {
  it('objects cost 1, scalars 0, a query root field at least 1', () => {
    expect(measure('{ tenant { id name } }')).toEqual({ depth: 2, cost: 1 });
    expect(measure('{ __typename }')).toEqual({ depth: 1, cost: 0 });
  });

  it('lists multiply what is selected in them: turns by `last`, or by the assumed 100', () => {
    expect(measure('query($id: ID!) { session(id: $id) { turns { seq text } } }', { id: 's' })).toEqual({ depth: 3, cost: 1 + 100 });
    expect(measure('query($id: ID!) { session(id: $id) { turns(last: 5) { seq } } }', { id: 's' })).toEqual({ depth: 3, cost: 1 + 5 });
    // Tenant.articles declares @listSize(assumedSize: 200); lists without @listSize take the configured default (10).
    expect(measure('{ tenant { articles { id } } }').cost).toBe(1 + 200);
    expect(measure('query($id: ID!) { answer(id: $id) { sources { id } } }', { id: 'a' }).cost).toBe(1 + 10);
  });

  it('a slicing argument given as a variable is read from the variables (and then not cached)', () => {
    const on = analyzer();
    const query = 'query($id: ID!, $n: Int) { session(id: $id) { turns(last: $n) { seq } } }';
    expect(measure(query, { id: 's', n: 3 }, on).cost).toBe(1 + 3);
    expect(measure(query, { id: 's', n: 50 }, on).cost).toBe(1 + 50);
    expect(measure(query, { id: 's' }, on).cost).toBe(1 + 100);
    expect(measure('query($id: ID!, $n: Int = 7) { session(id: $id) { turns(last: $n) { seq } } }', { id: 's' }, on).cost).toBe(1 + 7);
  });

  it('mutations and subscriptions weigh 10 at the root', () => {
    expect(measure('mutation { startSession { id } }').cost).toBe(10);
    expect(measure('subscription($s: ID!) { answerStream(sessionId: $s) { seq answer { id sources { id } } } }', { s: 'x' }).cost).toBe(
      10 + 1 + 10,
    );
  });

  it('aliases count once each: 1,600 aliased `turns` cost 1,600 lists of 100', () => {
    const aliases = Array.from({ length: 1600 }, (_, i) => `t${i}: turns { seq }`).join(' ');
    expect(measure(`query($id: ID!) { session(id: $id) { ${aliases} } }`, { id: 's' })).toEqual({ depth: 3, cost: 1 + 1600 * 100 });
  });

  it('fragments count at every spread, and depth runs through them', () => {
    const query = `
      query($id: ID!) { session(id: $id) { ...T } again: session(id: $id) { ...T } }
      fragment T on Session { turns { seq } }`;
    expect(measure(query, { id: 's' })).toEqual({ depth: 3, cost: 2 * (1 + 100) });
  });

  it('a fragment bomb is measured in linear time and refused by its size', () => {
    // F0 spreads F1 twice, F1 spreads F2 twice…: 2^40 copies of `turns`, never expanded.
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1 ? `fragment F${i} on Session { turns { seq } }` : `fragment F${i} on Session { id ...F${i + 1} ...F${i + 1} }`,
    );
    const document = parse(`query($id: ID!) { session(id: $id) { ...F0 } } ${fragments.join('\n')}`);
    const started = performance.now();
    const measured = analyzer().measure(document, getOperationAST(document)!, { id: 's' });
    expect(performance.now() - started).toBeLessThan(200);
    expect(measured.cost).toBeGreaterThan(2 ** 40);
  });

  it('introspection fields are not counted (introspection has its own switch)', () => {
    expect(measure('{ __schema { types { name fields { name type { ofType { ofType { name } } } } } } }')).toEqual({ depth: 0, cost: 0 });
  });

  it('depth counts nesting through inline fragments', () => {
    const measured = measure('subscription { tenantActivity { ... on ActivityEvent { session { id } answer { sources { title } } } } }');
    expect(measured.depth).toBe(4);
  });

  it('caches a measure that does not depend on variables per operation', () => {
    const on = analyzer();
    const document = parse('{ tenant { articles { id } } }');
    const operation = getOperationAST(document)!;
    const first = on.measure(document, operation, undefined);
    expect(on.measure(document, operation, { any: 1 })).toBe(first);
  });
});
