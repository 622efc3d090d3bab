import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { articlesFrom, loadBanking77, stratifiedFolds } from './eval';
import { DEFAULT_CONFIDENCE_THRESHOLD, KnowledgeIndex, type KnowledgeArticle } from './index';

const DATA = resolve(__dirname, '../../../ops/demo/data');

function article(id: string, title: string, body: string, questions: string[], locale = 'en'): KnowledgeArticle {
  return { id, title, body, questions, locale };
}

/** A small bank help centre: pairs of articles that share vocabulary (card vs transfer; time vs fees). */
function englishKb(): KnowledgeArticle[] {
  return [
    article('card-delivery', 'When will my new card arrive?', 'New cards arrive within 7 working days. Track delivery in the app.', [
      'My card has not arrived yet',
      'How long until I receive my new card?',
      'I am still waiting for my card to be delivered',
      'Can I track the delivery of my card?',
    ]),
    article('card-fees', 'Card fees', 'Replacement cards cost 5 EUR. The first card is free.', [
      'Do you charge for a replacement card?',
      'How much does a new card cost?',
      'Is there a fee for ordering a card?',
      'What does a card replacement cost?',
    ]),
    article(
      'transfer-time',
      'How long do transfers take?',
      'Transfers to other banks arrive within one business day; international ones take up to 5 days.',
      [
        'How long does a bank transfer take?',
        'My transfer has not reached the recipient yet',
        'When will the money I sent arrive?',
        'Why is my transfer still pending?',
      ],
    ),
    article('transfer-fees', 'Transfer fees', 'Domestic transfers are free. International transfers cost 0.5%.', [
      'Is there a fee for sending money?',
      'How much do you charge for international transfers?',
      'Why was I charged for a transfer?',
      'What are the costs of a bank transfer?',
    ]),
    article('password-reset', 'Resetting your password', 'Tap "Forgot password" on the login screen and follow the email link.', [
      'I forgot my password',
      'How do I change my password?',
      'I cannot log in to my account',
      'Reset my login password',
    ]),
    article('refund', 'Refunds for card payments', 'Ask the merchant first; if they refuse, open a dispute in the app within 120 days.', [
      'How do I get a refund for something I bought?',
      'The shop will not give me my money back',
      'I want to dispute a card payment',
      'A merchant refused my refund',
    ]),
  ];
}

function indexOf(articles: readonly KnowledgeArticle[]): KnowledgeIndex {
  const index = new KnowledgeIndex();
  for (const a of articles) index.upsert(a);
  return index;
}

describe('KnowledgeIndex (English)', () => {
  const index = indexOf(englishKb());

  it.each([
    ['my new card still has not shown up', 'card-delivery'],
    ['how much is it to replace my card?', 'card-fees'],
    ['the money I transferred yesterday has not arrived', 'transfer-time'],
    ['are international transfers free?', 'transfer-fees'],
    ["I can't remember my password", 'password-reset'],
    ['the seller refuses to refund me', 'refund'],
  ])('paraphrase %j picks %s', (question, expected) => {
    const result = index.search(question);
    expect(result.best?.article.id).toBe(expected);
    expect(result.usedContext).toBe(false);
  });

  it('returns calibrated confidences, sorted, within the limit', () => {
    const result = index.search('I forgot my password', { limit: 4 });
    expect(result.ranked).toHaveLength(4);
    for (const r of result.ranked) {
      expect(r.confidence).toBeGreaterThanOrEqual(0);
      expect(r.confidence).toBeLessThanOrEqual(1);
    }
    const confidences = result.ranked.map((r) => r.confidence);
    expect([...confidences].sort((a, b) => b - a)).toEqual(confidences);
    expect(result.best).toBe(result.ranked[0]);
    expect(result.confident).toBe((result.best?.confidence ?? 0) >= DEFAULT_CONFIDENCE_THRESHOLD);
    expect(index.search('I forgot my password').ranked).toHaveLength(3);
    // An explicit threshold decides `confident`.
    expect(index.search('I forgot my password', { threshold: 0 }).confident).toBe(true);
    expect(index.search('I forgot my password', { threshold: 1.01 }).confident).toBe(false);
  });

  it('upsert then search finds the new article; upsert by id replaces', () => {
    const kb = indexOf(englishKb());
    kb.upsert(
      article('lost-card', 'Report a lost or stolen card', 'Freeze the card in the app, then order a replacement.', [
        'I lost my card',
        'My card was stolen',
        'Someone took my wallet with my card',
      ]),
    );
    expect(kb.size).toBe(7);
    const found = kb.search('my card got stolen yesterday');
    expect(found.best?.article.id).toBe('lost-card');

    kb.upsert(article('lost-card', 'Opening hours', 'We are open 9-17.', ['When are you open?', 'What are your opening hours?']));
    expect(kb.size).toBe(7);
    expect(kb.search('what time do you open?').best?.article.id).toBe('lost-card');
    expect(kb.search('what time do you open?').best?.article.title).toBe('Opening hours');
  });

  it('a removed article is never returned again', () => {
    const kb = indexOf(englishKb());
    expect(kb.remove('password-reset')).toBe(true);
    expect(kb.remove('password-reset')).toBe(false);
    expect(kb.size).toBe(5);
    for (const q of ['I forgot my password', 'Reset my login password', 'password', 'I cannot log in to my account']) {
      const result = kb.search(q, { limit: 10, threshold: 0 });
      expect(result.ranked.map((r) => r.article.id)).not.toContain('password-reset');
      expect(result.ranked).toHaveLength(5);
    }
  });

  it('resolves elliptical follow-ups from the session context', () => {
    const card = index.search('and what about the fees?', { context: ['When will my new card arrive?'] });
    expect(card.usedContext).toBe(true);
    expect(card.best?.article.id).toBe('card-fees');

    const transfer = index.search('what about fees?', { context: ['hi', 'How long does it take to send money to another bank?'] });
    expect(transfer.usedContext).toBe(true);
    expect(transfer.best?.article.id).toBe('transfer-fees');

    const time = index.search('and how long does that take?', { context: ['I sent money to my friend abroad'] });
    expect(time.usedContext).toBe(true);
    expect(time.best?.article.id).toBe('transfer-time');
  });

  it('a self-contained question is not changed by unrelated context', () => {
    const alone = index.search('I forgot my password');
    const withContext = index.search('I forgot my password', { context: ['How much do international transfers cost?'] });
    expect(withContext.best?.article.id).toBe('password-reset');
    expect(withContext.usedContext).toBe(false);
    expect(withContext.best?.confidence).toBeCloseTo(alone.best?.confidence ?? -1, 10);
  });

  it.each(['', '   ', 'asdfgh qwerty', '😀🎉👍', '???', 'zxqv plmokn'])('nonsense %j is not confident and does not throw', (q) => {
    const result = index.search(q, { context: ['😀'] });
    expect(result.confident).toBe(false);
  });

  it('an empty index answers nothing and does not throw', () => {
    const empty = new KnowledgeIndex();
    expect(empty.size).toBe(0);
    expect(empty.search('I forgot my password')).toEqual({ confident: false, best: null, ranked: [], usedContext: false });
    expect(empty.search('', { context: ['hello'] }).confident).toBe(false);
    expect(empty.remove('nope')).toBe(false);
    // Emptied by removal.
    const kb = indexOf(englishKb().slice(0, 1));
    kb.search('card');
    kb.remove('card-delivery');
    expect(kb.search('my card has not arrived').best).toBeNull();
  });

  it('keeps tenants apart: two indexes do not share articles', () => {
    const a = indexOf(englishKb().slice(0, 3));
    const b = indexOf(englishKb().slice(3));
    expect(a.search('I forgot my password', { limit: 10, threshold: 0 }).ranked.map((r) => r.article.id)).not.toContain('password-reset');
    expect(b.search('I forgot my password').best?.article.id).toBe('password-reset');
  });
});

interface DemoKb {
  articles: KnowledgeArticle[];
}
interface HeldOut {
  question: string;
  articleId: string;
}

describe('KnowledgeIndex (Chinese demo FAQ)', () => {
  const kbPath = resolve(DATA, 'demo-cn.json');
  const heldOutPath = resolve(DATA, 'demo-cn-heldout.json');
  const kb = JSON.parse(readFileSync(kbPath, 'utf8')) as DemoKb;
  const heldOut = JSON.parse(readFileSync(heldOutPath, 'utf8')) as HeldOut[];
  const index = indexOf(kb.articles);

  it('answers (nearly) all held-out paraphrases with the right article', () => {
    expect(heldOut.length).toBeGreaterThanOrEqual(30);
    const wrong = heldOut.filter((h) => index.search(h.question).best?.article.id !== h.articleId);
    const right = heldOut.length - wrong.length;
    // Bar: at least 90% of the held-out questions (36 of 40), and never fewer than 20.
    const bar = Math.max(20, Math.ceil(0.9 * heldOut.length));
    if (right < bar) console.log('wrong:', wrong);
    expect(right).toBeGreaterThanOrEqual(bar);
  });

  it('is never confidently wrong on the held-out paraphrases', () => {
    const confidentlyWrong = heldOut.filter((h) => {
      const r = index.search(h.question);
      return r.confident && r.best?.article.id !== h.articleId;
    });
    expect(confidentlyWrong).toEqual([]);
  });

  it('resolves a Chinese follow-up from context', () => {
    const followUp = index.search('那这个要多久呢？', { context: ['我想退货，怎么退款？'] });
    expect(followUp.usedContext).toBe(true);
    expect(['cn-refund-timing', 'cn-return-policy']).toContain(followUp.best?.article.id);
  });

  it('nonsense stays unconfident', () => {
    for (const q of ['', '😀😀', 'asdfgh qwerty', '。。。']) expect(index.search(q).confident).toBe(false);
  });
});

describe('BANKING77 sanity (sub-sampled; the full cross-validation is `npm run eval`)', () => {
  const repoCopy = resolve(DATA, 'banking77/train.csv');
  const shared = resolve(__dirname, '../../../../shared/data/banking77/train.csv');
  const path = existsSync(repoCopy) ? repoCopy : shared;
  const run = existsSync(path) ? it : it.skip;

  run('a 20-intent slice reaches high held-out accuracy', () => {
    const all = loadBanking77(path);
    const intents = [...new Set(all.map((q) => q.label))].slice(0, 20);
    const subset = all.filter((q) => intents.includes(q.label));
    const folds = stratifiedFolds(subset, 5, 3);
    const index = indexOf(articlesFrom(subset.filter((_, i) => folds[i] !== 0)));
    const test = subset.filter((_, i) => folds[i] === 0);
    const right = test.filter((q) => index.search(q.text).best?.article.id === q.label).length;
    expect(right / test.length).toBeGreaterThanOrEqual(0.9);
  });
});

describe('context never makes an unrelated question confidently wrong', () => {
  const kb = JSON.parse(readFileSync(resolve(DATA, 'demo-cn.json'), 'utf8')) as { articles: KnowledgeArticle[] };
  const heldOut = JSON.parse(readFileSync(resolve(DATA, 'demo-cn-heldout.json'), 'utf8')) as { question: string; articleId: string }[];
  const index = indexOf(kb.articles);

  it('asks every held-out question after the previous ones in one session', () => {
    const confidentlyWrong = heldOut.filter((h, i) => {
      const context = heldOut.slice(Math.max(0, i - 3), i).map((x) => x.question);
      const r = index.search(h.question, { context });
      return r.confident && r.best?.article.id !== h.articleId;
    });
    expect(confidentlyWrong).toEqual([]);
  });
});

describe('follow-up questions on the demo tenants (ops/demo/data/follow-ups.json)', () => {
  const written = JSON.parse(readFileSync(resolve(DATA, 'banking77-articles.json'), 'utf8')) as Array<{
    intent: string;
    id: string;
    title: string;
    body: string;
  }>;
  const questions = new Map<string, string[]>();
  for (const q of loadBanking77(resolve(DATA, 'banking77', 'train.csv')))
    questions.set(q.label, [...(questions.get(q.label) ?? []), q.text]);
  const bank = new KnowledgeIndex();
  for (const a of written) bank.upsert({ id: a.id, title: a.title, body: a.body, questions: questions.get(a.intent) ?? [], locale: 'en' });
  const cn = new KnowledgeIndex();
  for (const a of (JSON.parse(readFileSync(resolve(DATA, 'demo-cn.json'), 'utf8')) as { articles: KnowledgeArticle[] }).articles)
    cn.upsert(a);
  const { conversations } = JSON.parse(readFileSync(resolve(DATA, 'follow-ups.json'), 'utf8')) as {
    conversations: Array<{ locale: string; turns: [string, string]; articleId: string }>;
  };

  it('reads "What should I do now?" after a declined card payment as about the declined payment (issue 17)', () => {
    const r = bank.search('What should I do now?', { context: ['My card payment was declined at a shop'] });
    expect(r.usedContext).toBe(true);
    expect(r.best?.article.id).toBe('bank-declined-card-payment');
  });

  it('ranks the conversation’s article first for most of the written follow-ups', () => {
    expect(conversations.length).toBeGreaterThanOrEqual(100);
    const rate = (locale: string, index: KnowledgeIndex): number => {
      const mine = conversations.filter((c) => c.locale === locale);
      return mine.filter((c) => index.search(c.turns[1], { context: [c.turns[0]] }).best?.article.id === c.articleId).length / mine.length;
    };
    // Measured 75% (en) and 92% (zh) with the conversation, 13% and 60% for the question alone.
    expect(rate('en', bank)).toBeGreaterThanOrEqual(0.7);
    expect(rate('zh-CN', cn)).toBeGreaterThanOrEqual(0.85);
  });
});
