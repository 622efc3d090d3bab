import { e2eEnvironment, postGraphQL } from '../harness/cluster';

// A tenant's knowledge base is capped (articles, questions per article, question bytes): the cap is refused
// through the gateway with KNOWLEDGE_BASE_LIMIT_REACHED, atomically, and frees up again after a delete.
const e2e = e2eEnvironment('knowledge-limits', 15860);
const CAPS = { KB_MAX_ARTICLES: '3', KB_MAX_QUESTIONS_PER_ARTICLE: '4', KB_MAX_QUESTION_BYTES: '200' };

const UPSERT = 'mutation ($input: ArticleInput!) { upsertArticle(input: $input) { id } }';
const DELETE = 'mutation ($id: ID!) { deleteArticle(id: $id) }';

beforeAll(async () => {
  await e2e.cluster.start('tenant', CAPS);
  await e2e.cluster.start('gateway');
});
afterAll(() => e2e.cluster.stopAll());

describe('knowledge-base caps', () => {
  let auth: Record<string, string>;
  const upsert = (id: string, questions: string[]) =>
    postGraphQL(e2e.gatewayUrl, { query: UPSERT, variables: { input: { id, title: `Article ${id}`, body: 'Body.', questions } } }, auth);
  const refusal = (result: Awaited<ReturnType<typeof upsert>>) => result.body.errors?.[0]?.extensions;

  beforeAll(async () => {
    auth = { authorization: `Bearer ${await e2e.token('kb-caps', 'admin-1', 'admin')}` };
  });

  it('refuses more questions per article than the cap', async () => {
    const result = await upsert('too-many', ['q1', 'q2', 'q3', 'q4', 'q5']);
    expect(refusal(result)).toMatchObject({ code: 'KNOWLEDGE_BASE_LIMIT_REACHED', limit: 'questionsPerArticle', max: 4, current: 5 });
    expect(result.body.errors?.[0]?.message).toMatch(/at most 4 example questions/);
  });

  it('refuses an article over the article cap, but still updates an existing one, and frees the slot on delete', async () => {
    for (const id of ['a1', 'a2', 'a3']) expect((await upsert(id, ['where is my card'])).body.errors).toBeUndefined();
    const fourth = await upsert('a4', ['where is my card']);
    expect(refusal(fourth)).toMatchObject({ code: 'KNOWLEDGE_BASE_LIMIT_REACHED', limit: 'articles', max: 3, current: 3 });
    expect(fourth.body.errors?.[0]?.message).toMatch(/limit of 3 articles/);
    // Replacing an article does not add one.
    expect((await upsert('a2', ['how do I reset my password'])).body.errors).toBeUndefined();
    // Nothing of the refused article was written.
    const tenant = await postGraphQL(e2e.gatewayUrl, { query: '{ tenant { articles { id } } }' }, auth);
    expect(tenant.body.data).toEqual({ tenant: { articles: [{ id: 'a1' }, { id: 'a2' }, { id: 'a3' }] } });
    expect((await postGraphQL(e2e.gatewayUrl, { query: DELETE, variables: { id: 'a3' } }, auth)).body.data).toEqual({
      deleteArticle: true,
    });
    expect((await upsert('a4', ['where is my card'])).body.errors).toBeUndefined();
  });

  it('refuses what would take the question bytes over the cap, counting an updated article’s new questions only', async () => {
    // So far: a1 (16 bytes), a2 (26), a4 (16) = 58 of 200.
    const long = 'x'.repeat(60);
    const over = await upsert('a1', [long, long, long]);
    expect(refusal(over)).toMatchObject({ code: 'KNOWLEDGE_BASE_LIMIT_REACHED', limit: 'questionBytes', max: 200, current: 42 });
    // The same article with fewer bytes fits: 42 + 120 = 162.
    expect((await upsert('a1', [long, long])).body.errors).toBeUndefined();
  });

  it('concurrent upserts cannot together pass the article cap', async () => {
    const other = { authorization: `Bearer ${await e2e.token('kb-caps-race', 'admin-2', 'admin')}` };
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        postGraphQL(
          e2e.gatewayUrl,
          { query: UPSERT, variables: { input: { id: `r${i}`, title: 'T', body: 'B.', questions: ['q'] } } },
          other,
        ),
      ),
    );
    expect(results.filter((r) => !r.body.errors).length).toBe(3);
    expect(results.filter((r) => r.body.errors?.[0]?.extensions?.code === 'KNOWLEDGE_BASE_LIMIT_REACHED').length).toBe(9);
    const tenant = await postGraphQL(e2e.gatewayUrl, { query: '{ tenant { articles { id } } }' }, other);
    expect((tenant.body.data as { tenant: { articles: unknown[] } }).tenant.articles).toHaveLength(3);
  });
});
