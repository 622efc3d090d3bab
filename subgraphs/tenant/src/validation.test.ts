import { articleFromInput, LIMITS } from './validation';

const refusal = (field: string, message: RegExp) =>
  expect.objectContaining({
    message: expect.stringMatching(message),
    extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field }),
  });

describe('articleFromInput (the tenant subgraph’s article rules)', () => {
  const now = new Date('2026-03-01T12:00:00Z');

  it('trims the text, drops blank questions, defaults the locale to en and stamps the time', () => {
    const article = articleFromInput(
      { id: 'card-lost', title: '  Lost card ', body: '\nCall us.\n', questions: [' lost my card ', '  ', ''] },
      now,
    );
    expect(article).toEqual({
      id: 'card-lost',
      title: 'Lost card',
      body: 'Call us.',
      questions: ['lost my card'],
      locale: 'en',
      updatedAt: '2026-03-01T12:00:00.000Z',
    });
  });

  it('mints an id when none is given, and keeps a regional locale', () => {
    const article = articleFromInput({ title: 't', body: 'b', locale: 'zh-CN' }, now);
    expect(article.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(article.locale).toBe('zh-CN');
  });

  it('accepts text exactly at the limits', () => {
    const article = articleFromInput({
      title: 'x'.repeat(LIMITS.title),
      body: 'y'.repeat(LIMITS.body),
      questions: ['q'.repeat(LIMITS.question), 'short'],
    });
    expect(article.title).toHaveLength(LIMITS.title);
    expect(article.questions).toEqual(['q'.repeat(LIMITS.question), 'short']);
  });

  it.each([
    ['an id unsafe in a key', { id: 'a:b', title: 't', body: 'b' }, 'id', /^id:/],
    ['a blank title', { title: '   ', body: 'b' }, 'title', /^title: 1 to 200/],
    ['a title too long', { title: 'x'.repeat(LIMITS.title + 1), body: 'b' }, 'title', /^title:/],
    ['a blank body', { title: 't', body: ' \n ' }, 'body', /^body: 1 to 20000/],
    ['a body too long', { title: 't', body: 'y'.repeat(LIMITS.body + 1) }, 'body', /^body:/],
    ['a question too long', { title: 't', body: 'b', questions: ['q'.repeat(LIMITS.question + 1)] }, 'questions', /each at most 500/],
    ['a locale that is not a language tag', { title: 't', body: 'b', locale: 'english!' }, 'locale', /^locale:/],
  ])('refuses %s with BAD_USER_INPUT naming the field', (_name, input, field, message) => {
    expect(() => articleFromInput(input)).toThrow(refusal(field, message));
  });
});
