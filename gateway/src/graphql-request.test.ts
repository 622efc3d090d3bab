import { checkParams } from './graphql-request';
import { HttpError } from './http-io';

describe('GraphQL request parameters', () => {
  it('requires a query unless a persisted document is named', () => {
    expect(() => checkParams({})).toThrow(HttpError);
    expect(() => checkParams({ query: '  ' })).toThrow(/`query` string is required/);
    expect(checkParams({ documentId: 'abc' })).toEqual({ documentId: 'abc' });
    const persistedQuery = { version: 1, sha256Hash: 'a'.repeat(64) };
    expect(checkParams({ extensions: { persistedQuery } })).toEqual({ extensions: { persistedQuery } });
    // graphql-ws always sends a `query` string: an empty one means "none".
    expect(checkParams({ query: '', documentId: 'abc' })).toEqual({ documentId: 'abc' });
    expect(checkParams({ query: '{ tenant { id } }' })).toEqual({ query: '{ tenant { id } }' });
  });

  it('refuses malformed fields', () => {
    expect(() => checkParams({ query: 1 })).toThrow(/`query` must be a string/);
    expect(() => checkParams({ documentId: '' })).toThrow(/`documentId` must be a non-empty string/);
    expect(() => checkParams({ documentId: 7 })).toThrow(/`documentId`/);
  });
});
