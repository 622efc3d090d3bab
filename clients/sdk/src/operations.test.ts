import { readSupergraph } from '@beedesk/schema';
import { buildSchema, parse, validate } from 'graphql';
import { ALL_OPERATIONS } from './operations';

describe('SDK operations', () => {
  const schema = buildSchema(readSupergraph());

  it.each(Object.entries(ALL_OPERATIONS))('%s is valid against the composed supergraph', (_name, operation) => {
    expect(validate(schema, parse(operation.document)).map((e) => e.message)).toEqual([]);
  });
});
