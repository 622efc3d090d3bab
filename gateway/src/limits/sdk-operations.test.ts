import { join } from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import { readSupergraph } from '@beedesk/schema';
import { getOperationAST, parse, validate } from 'graphql';
import { costAnnotationsOf } from './cost-model';
import { CostAnalyzer } from './operation-cost';
import { DEFAULT_LIMIT_SETTINGS } from './settings';

// The SDK's documents are what clients send; the default limits must leave them ample room.
// Loaded from its source by path: the gateway package does not depend on the SDK.
const SDK_OPERATIONS = join(__dirname, '..', '..', '..', 'clients', 'sdk', 'src', 'operations');

it('every operation of clients/sdk passes the default depth and cost limits with a wide margin', () => {
  const { ALL_OPERATIONS } = jest.requireActual<{ ALL_OPERATIONS: Record<string, { document: string }> }>(SDK_OPERATIONS);
  const supergraphSdl = readSupergraph();
  const schema = Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
  const analyzer = new CostAnalyzer({
    schema,
    annotations: costAnnotationsOf(supergraphSdl),
    defaultListSize: DEFAULT_LIMIT_SETTINGS.defaultListSize,
  });
  const names = Object.keys(ALL_OPERATIONS);
  expect(names.length).toBeGreaterThanOrEqual(12);
  const measured: Record<string, { depth: number; cost: number }> = {};
  for (const [name, { document: text }] of Object.entries(ALL_OPERATIONS)) {
    const document = parse(text);
    expect(validate(schema, document)).toEqual([]);
    // Without variables: list sizes fall back to their assumed (largest) sizes.
    measured[name] = analyzer.measure(document, getOperationAST(document)!, {});
  }
  for (const [name, { depth, cost }] of Object.entries(measured)) {
    expect({ name, fits: depth <= DEFAULT_LIMIT_SETTINGS.maxDepth / 2 && cost <= DEFAULT_LIMIT_SETTINGS.maxCost / 10 }).toEqual({
      name,
      fits: true,
    });
  }
  // The most expensive SDK operation reads a session's whole history (100 turns).
  expect(measured['GetSession']).toEqual({ depth: 3, cost: 101 });
});
