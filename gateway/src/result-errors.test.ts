import { isSilentlyNulled, silentlyNulledError } from './result-errors';

describe('a result nulled out without an error', () => {
  it('is told apart from a result with data, with errors, or without data at all', () => {
    expect(isSilentlyNulled({ data: null })).toBe(true);
    expect(isSilentlyNulled({ data: null, errors: [] })).toBe(true);
    expect(isSilentlyNulled({ data: null, errors: [silentlyNulledError()] })).toBe(false);
    expect(isSilentlyNulled({ data: { answer: null } })).toBe(false);
    // A request error (no `data` key) is not a nulled result.
    expect(isSilentlyNulled({ errors: [silentlyNulledError()] })).toBe(false);
  });

  it('gets a NOT_FOUND error', () => {
    expect(silentlyNulledError().extensions['code']).toBe('NOT_FOUND');
  });
});
