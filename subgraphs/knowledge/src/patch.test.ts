import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { articlesFrom, loadBanking77, stratifiedFolds } from './eval';
import { KnowledgeIndex, type KnowledgeArticle } from './index';
import { Model } from './model';
import { warmStartFrom } from './builder';
import { MAX_PATCHED_ARTICLES, patchModel } from './patch';

const DATA = resolve(__dirname, '../../../ops/demo/data');
const article = (id: string, title: string, body: string, questions: string[]): KnowledgeArticle => ({
  id,
  title,
  body,
  questions,
  locale: 'en',
});

const KB: KnowledgeArticle[] = [
  article('card-delivery', 'When will my new card arrive?', 'New cards arrive within 7 working days.', [
    'My card has not arrived yet',
    'How long until I receive my new card?',
    'I am still waiting for my card to be delivered',
  ]),
  article('transfer-fees', 'Transfer fees', 'Domestic transfers are free. International transfers cost 0.5%.', [
    'Is there a fee for sending money?',
    'How much do you charge for international transfers?',
    'Why was I charged for a transfer?',
  ]),
  article('password-reset', 'Resetting your password', 'Tap "Forgot password" on the login screen.', [
    'I forgot my password',
    'How do I change my password?',
    'I cannot log in to my account',
  ]),
  article('refund', 'Refunds for card payments', 'Ask the merchant first, then open a dispute in the app.', [
    'How do I get a refund for something I bought?',
    'The shop will not give me my money back',
    'I want to dispute a card payment',
  ]),
];
// Words the trained model has never seen ("pet", "dog", "insurance"): the patch adds them as new columns.
const PET = article('pet-insurance', 'Pet insurance', 'We insure cats and dogs from 5 EUR a month.', [
  'Do you offer pet insurance?',
  'Can I insure my dog?',
  'Is my cat covered by insurance?',
  'How much is pet insurance?',
]);

const trained = (articles: readonly KnowledgeArticle[]): Model => Model.build(articles);
const ids = (index: KnowledgeIndex, q: string): string[] => index.search(q, { limit: 10, threshold: 0 }).ranked.map((r) => r.article.id);

describe('interim patches', () => {
  const model = trained(KB);

  it('nothing to patch when the model knows every article as it is', () => {
    expect(patchModel(model, KB)).toBeNull();
    expect(patchModel(model, KB.slice(1))).toBeNull(); // a deletion needs no training, only exclusion
    expect(KnowledgeIndex.serving(model, KB).patched).toEqual([]);
  });

  it('a new article with unseen words is found, confidently, at once', () => {
    const index = KnowledgeIndex.serving(model, [...KB, PET]);
    expect(index.patched).toEqual(['pet-insurance']);
    expect(index.untrained).toEqual([]);
    for (const q of ['can I get insurance for my dog?', 'is there insurance for pets', 'my cat needs insurance']) {
      const r = index.search(q);
      expect(r.best?.article.id).toBe('pet-insurance');
      expect(r.confident).toBe(true);
    }
  });

  it('the other articles keep their questions, and nonsense stays unconfident', () => {
    const before = KnowledgeIndex.serving(model, KB);
    const index = KnowledgeIndex.serving(model, [...KB, PET]);
    for (const a of KB) {
      for (const q of a.questions) {
        expect(index.search(q).best?.article.id).toBe(a.id);
        // The new class takes some probability mass, never the answer.
        expect(index.search(q).best?.confidence).toBeGreaterThan((before.search(q).best?.confidence ?? 0) - 0.2);
      }
    }
    // As unsure about nonsense as the model without the patch (this tiny KB is sure of "the" alone, either way).
    for (const q of ['asdf qwerty zxcv', 'blorf the wizzle', 'zorp glim', '😀🎉👍', '']) {
      const r = index.search(q);
      expect(r.best?.confidence ?? 0).toBeLessThanOrEqual((before.search(q).best?.confidence ?? 0) + 0.05);
      expect(r.best?.article.id === 'pet-insurance' && r.confident).toBe(false);
    }
  });

  it('an edited article is learned as it is now and answers as one article', () => {
    const edited = { ...KB[1]!, questions: [...KB[1]!.questions, 'What does a SEPA payment cost?', 'Are SEPA payments free?'] };
    const index = KnowledgeIndex.serving(model, [KB[0]!, edited, KB[2]!, KB[3]!]);
    expect(index.patched).toEqual(['transfer-fees']);
    const r = index.search('how much is a SEPA payment?', { limit: 10, threshold: 0 });
    expect(r.best?.article).toBe(edited);
    // One class per article: the old version no longer competes.
    expect(r.ranked.map((x) => x.article.id).sort()).toEqual(KB.map((a) => a.id).sort());
    expect(index.search('Why was I charged for a transfer?').best?.article.id).toBe('transfer-fees');
  });

  it('a deleted article is never returned, also when added again under a patch and deleted before the next model', () => {
    const withPet = KnowledgeIndex.serving(model, [KB[0]!, KB[2]!, KB[3]!, PET]);
    for (const q of ['Is there a fee for sending money?', 'transfer fees', 'can I insure my dog?'])
      expect(ids(withPet, q)).not.toContain('transfer-fees');
    const withoutPet = KnowledgeIndex.serving(model, KB.slice(0, 3));
    for (const q of ['can I insure my dog?', 'pet insurance', 'refund']) {
      expect(ids(withoutPet, q)).not.toContain('pet-insurance');
      expect(ids(withoutPet, q)).not.toContain('refund');
    }
  });

  it('follow-ups use the patched article’s topic too', () => {
    const index = KnowledgeIndex.serving(model, [...KB, PET]);
    const r = index.search('and how much is that?', { context: ['Can I insure my dog?'] });
    expect(r.usedContext).toBe(true);
    expect(r.best?.article.id).toBe('pet-insurance');
  });

  it('the warm retrain that replaces a patch starts from it, so it does not forget the new article', () => {
    const articles = [...KB, PET];
    const fromPatch = KnowledgeIndex.serving(Model.build(articles, {}, { warmFrom: warmStartFrom(model, articles) }), articles);
    const fromOld = KnowledgeIndex.serving(Model.build(articles, {}, { warmFrom: model }), articles);
    expect(fromPatch.patched).toEqual([]);
    for (const q of ['can I get insurance for my dog?', 'is there insurance for pets']) {
      const r = fromPatch.search(q);
      expect(r.best?.article.id).toBe('pet-insurance');
      expect(r.confident).toBe(true);
      expect(r.best?.confidence).toBeGreaterThanOrEqual(
        fromOld.search(q).best?.article.id === 'pet-insurance' ? (fromOld.search(q).best?.confidence ?? 0) : 0,
      );
    }
    for (const a of KB) for (const q of a.questions) expect(fromPatch.search(q).best?.article.id).toBe(a.id);
    expect(warmStartFrom(model, KB)).toBe(model);
  });

  it('too many changes at once wait for the full model instead', () => {
    const many = Array.from({ length: MAX_PATCHED_ARTICLES + 1 }, (_, i) =>
      article(`a${i}`, `Topic ${i}`, `Body ${i}.`, [`question about topic ${i}`]),
    );
    expect(patchModel(model, [...KB, ...many])).toBeNull();
    const index = KnowledgeIndex.serving(model, [...KB, ...many]);
    expect(index.patched).toEqual([]);
    expect(index.untrained.sort()).toEqual(many.map((a) => a.id).sort());
    expect(index.search('I forgot my password').best?.article.id).toBe('password-reset');
  });
});

describe('interim patches on real data', () => {
  const path = resolve(DATA, 'banking77/train.csv');
  const run = existsSync(path) ? it : it.skip;

  run('BANKING77 slice: intents added by a patch are found about as well as by full training', () => {
    const all = loadBanking77(path);
    const intents = [...new Set(all.map((q) => q.label))].slice(0, 20);
    const subset = all.filter((q) => intents.includes(q.label));
    const folds = stratifiedFolds(subset, 5, 3);
    const articles = articlesFrom(subset.filter((_, i) => folds[i] !== 0));
    const test = subset.filter((_, i) => folds[i] === 0);
    const added = new Set(intents.slice(0, 2));
    const full = KnowledgeIndex.serving(trained(articles), articles);
    const patched = KnowledgeIndex.serving(trained(articles.filter((a) => !added.has(a.id))), articles);
    expect(patched.patched.sort()).toEqual([...added].sort());
    const accuracy = (index: KnowledgeIndex, qs: typeof test) =>
      qs.filter((q) => index.search(q.text).best?.article.id === q.label).length / qs.length;
    const confidentlyWrong = (index: KnowledgeIndex) =>
      test.filter((q) => {
        const r = index.search(q.text);
        return r.confident && r.best?.article.id !== q.label;
      }).length / test.length;
    const addedTest = test.filter((q) => added.has(q.label));
    expect(accuracy(patched, test)).toBeGreaterThanOrEqual(accuracy(full, test) - 0.02);
    expect(accuracy(patched, addedTest)).toBeGreaterThanOrEqual(accuracy(full, addedTest) - 0.1);
    expect(confidentlyWrong(patched)).toBeLessThanOrEqual(confidentlyWrong(full) + 0.01);
  });

  it('Chinese FAQ: an article added by a patch answers its held-out paraphrases', () => {
    const kb = JSON.parse(readFileSync(resolve(DATA, 'demo-cn.json'), 'utf8')) as { articles: KnowledgeArticle[] };
    const heldOut = JSON.parse(readFileSync(resolve(DATA, 'demo-cn-heldout.json'), 'utf8')) as { question: string; articleId: string }[];
    const counts = new Map<string, number>();
    for (const h of heldOut) counts.set(h.articleId, (counts.get(h.articleId) ?? 0) + 1);
    const target = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const full = KnowledgeIndex.serving(trained(kb.articles), kb.articles);
    const patched = KnowledgeIndex.serving(trained(kb.articles.filter((a) => a.id !== target)), kb.articles);
    expect(patched.patched).toEqual([target]);
    const right = (index: KnowledgeIndex) => heldOut.filter((h) => index.search(h.question).best?.article.id === h.articleId).length;
    expect(right(patched)).toBeGreaterThanOrEqual(right(full) - 2);
    for (const h of heldOut) {
      const r = patched.search(h.question);
      if (r.confident) expect(r.best?.article.id).toBe(h.articleId);
    }
  });
});
