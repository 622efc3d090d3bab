import { GraphQLError } from 'graphql';
import { apiKeyFromInput } from './api-keys';

const codeOf = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error instanceof GraphQLError ? [error.extensions.code, error.extensions.field] : error;
  }
  return 'accepted';
};

describe('createApiKey input', () => {
  it('trims the name, maps and de-duplicates roles, defaults to persisted-only', () => {
    expect(apiKeyFromInput({ name: '  CRM sync ', roles: ['AGENT', 'ADMIN', 'AGENT'] })).toEqual({
      name: 'CRM sync',
      roles: ['agent', 'admin'],
      persistedOnly: true,
    });
    expect(apiKeyFromInput({ name: 'k', roles: ['CUSTOMER'], persistedOnly: false }).persistedOnly).toBe(false);
    expect(apiKeyFromInput({ name: 'k', roles: ['CUSTOMER'], persistedOnly: null }).persistedOnly).toBe(true);
  });

  it.each([
    ['an empty name', { name: '   ', roles: ['ADMIN'] as const }, 'name'],
    ['a long name', { name: 'x'.repeat(101), roles: ['ADMIN'] as const }, 'name'],
    ['a control character', { name: 'a\u0000b', roles: ['ADMIN'] as const }, 'name'],
    ['no roles', { name: 'k', roles: [] as const }, 'roles'],
  ])('refuses %s with BAD_USER_INPUT naming the argument', (_name, input, field) => {
    expect(codeOf(() => apiKeyFromInput({ ...input, roles: [...input.roles] }))).toEqual(['BAD_USER_INPUT', field]);
  });
});
