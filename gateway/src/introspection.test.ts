import { getOperationAST, parse } from 'graphql';
import { introspectionEnabled, usesIntrospection } from './introspection';

const introspects = (query: string, operationName?: string) => {
  const document = parse(query);
  return usesIntrospection(document, getOperationAST(document, operationName)!);
};

describe('introspection', () => {
  it('finds __schema and __type at the root, also through fragments', () => {
    expect(introspects('{ __schema { types { name } } }')).toBe(true);
    expect(introspects('{ __type(name: "Session") { fields { name } } }')).toBe(true);
    expect(introspects('{ tenant { id } ... on Query { __type(name: "X") { name } } }')).toBe(true);
    expect(
      introspects('query Q { ...Meta } fragment Meta on Query { ...Deeper } fragment Deeper on Query { __schema { queryType { name } } }'),
    ).toBe(true);
  });

  it('leaves ordinary operations and __typename alone', () => {
    expect(introspects('{ __typename tenant { __typename id } }')).toBe(false);
    expect(introspects('mutation { startSession { id } }')).toBe(false);
    expect(introspects('query A { tenant { id } } query B { __schema { types { name } } }', 'A')).toBe(false);
  });

  it('is on in development unless GATEWAY_INTROSPECTION says otherwise, off elsewhere', () => {
    expect(introspectionEnabled(undefined, 'development')).toBe(true);
    expect(introspectionEnabled(undefined, 'production')).toBe(false);
    expect(introspectionEnabled(undefined, 'test')).toBe(false);
    expect(introspectionEnabled('false', 'development')).toBe(false);
    expect(introspectionEnabled('true', 'production')).toBe(true);
  });
});
