import { MAX_QUESTION_LENGTH, validateAsk } from './ask';

describe('ask validation', () => {
  it('trims and accepts ordinary questions', () => {
    expect(validateAsk({ sessionId: 's', text: '  Where is my card?  ' })).toBe('Where is my card?');
  });

  it.each([
    ['empty', { sessionId: 's', text: '' }, /must not be empty/],
    ['blank', { sessionId: 's', text: ' \n\t ' }, /must not be empty/],
    ['too long', { sessionId: 's', text: 'x'.repeat(MAX_QUESTION_LENGTH + 1) }, /at most 4000/],
    ['bad client id', { sessionId: 's', text: 'hi', clientMessageId: 'a b' }, /clientMessageId/],
  ])('refuses %s text with BAD_USER_INPUT', (_name, args, message) => {
    expect(() => validateAsk(args)).toThrow(
      expect.objectContaining({ message: expect.stringMatching(message), extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    );
  });
});
