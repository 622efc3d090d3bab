/**
 * Smoke test of the sentence-embedding path. Runs only when the model is cached (`bash ops/models/models.sh
 * fetch`; .ci/run fetches it), so a clone without it still runs the rest of the suite.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { KnowledgeIndex, type KnowledgeArticle } from '../index';
import { DEFAULT_FUSION, fusionFor } from './bank';
import { defaultModelDir, embeddingModelName, modelInfo, modelPresent, SentenceEncoder } from './encoder';

// onnxruntime-node makes its output arrays in Node's own realm, and onnxruntime-common checks them with
// instanceof: inside jest's sandbox (another realm) that fails unless the sandbox uses Node's constructors.
for (const name of ['Float32Array', 'BigInt64Array'] as const) (globalThis as Record<string, unknown>)[name] = runInThisContext(name);

const describeWithModel = modelPresent() && process.env.BEEDESK_EMBEDDINGS !== 'off' ? describe : describe.skip;

const article = (id: string, title: string, questions: string[]): KnowledgeArticle => ({
  id,
  title,
  body: `${title}.`,
  questions,
  locale: 'en',
});

const ARTICLES = [
  article('pin', 'Reset your card PIN', ['How do I change my PIN?', 'I forgot my PIN code', 'Where can I reset the PIN of my card?']),
  article('lost', 'Lost or stolen card', ['I lost my card', 'My card was stolen', 'What do I do if my card is missing?']),
  article('transfer', 'Transfer times', [
    'How long does a bank transfer take?',
    'When will my transfer arrive?',
    'My transfer has not arrived yet',
  ]),
];

describeWithModel('sentence embeddings (model cached)', () => {
  let encoder: SentenceEncoder;
  beforeAll(async () => {
    encoder = (await SentenceEncoder.load()) as SentenceEncoder;
  });
  afterAll(async () => {
    await encoder?.close();
  });

  it('embeds paraphrases closer than unrelated sentences, as unit vectors', async () => {
    const [a, b, c] = await encoder.embed(['I cannot remember my PIN number', 'I forgot my PIN code', 'Will it rain in Paris tomorrow?']);
    const dot = (x: Float32Array, y: Float32Array): number => x.reduce((s, v, i) => s + v * (y[i] as number), 0);
    expect(encoder.dimension).toBe(384);
    expect(dot(a as Float32Array, a as Float32Array)).toBeCloseTo(1, 4);
    expect(dot(a as Float32Array, b as Float32Array)).toBeGreaterThan(dot(a as Float32Array, c as Float32Array) + 0.3);
  });

  it('answers a paraphrase with no shared content word, and is far less sure of an out-of-scope question', async () => {
    const index = new KnowledgeIndex({ encoder });
    for (const a of ARTICLES) index.upsert(a);
    const paraphrase = await index.searchAsync('my debit card has gone missing', { waitForEmbeddings: true });
    expect(index.embeddingsReady).toBe(true);
    expect(paraphrase.best?.article.id).toBe('lost');
    const outOfScope = await index.searchAsync('what is a good recipe for lasagne', { waitForEmbeddings: true });
    expect(outOfScope.best?.confidence ?? 0).toBeLessThan((paraphrase.best?.confidence ?? 0) / 2);
  });

  it('answers an article an interim patch added, by the softmax head trained without it', async () => {
    const trained = new KnowledgeIndex({ encoder });
    for (const a of ARTICLES) trained.upsert(a);
    trained.rebuild();
    await trained.prepareEmbeddings();
    const added = article('arrival', 'Card delivery times', [
      'When will my new card arrive?',
      'My card has not come in the post',
      'How long does card delivery take?',
    ]);
    const serving = KnowledgeIndex.serving(trained.trainedModel, [...ARTICLES, added], { encoder });
    expect(serving.patched).toEqual(['arrival']);
    const r = await serving.searchAsync('my new card still has not been delivered', { waitForEmbeddings: true });
    expect(serving.embeddingsReady).toBe(true);
    expect(r.best?.article.id).toBe('arrival');
  });

  it('leaves Chinese to the word features (the model learned English)', async () => {
    expect(encoder.covers('卡丢了怎么办')).toBe(false);
    expect(encoder.covers('my card is lost')).toBe(true);
    const index = new KnowledgeIndex({ encoder });
    index.upsert({ ...article('cn', '忘记密码', ['忘记密码了怎么办？', '怎么重置密码']), locale: 'zh-CN' });
    expect(await index.prepareEmbeddings()).toBeNull();
    const r = await index.searchAsync('密码忘了登不上');
    expect(r.best?.article.id).toBe('cn');
    expect(index.embeddingsReady).toBe(false);
  });
});

describe('model choice (no model needed)', () => {
  it('picks the cache dir by BEEDESK_EMBEDDING_MODEL and rejects unknown names', () => {
    expect(embeddingModelName({})).toBe('all-minilm-l6-v2-q');
    expect(defaultModelDir({ BEEDESK_CACHE_DIR: '/c', BEEDESK_EMBEDDING_MODEL: 'bge-small-en-v15-q' })).toBe(
      join('/c', 'models', 'bge-small-en-v15-q'),
    );
    expect(() => embeddingModelName({ BEEDESK_EMBEDDING_MODEL: 'nope' })).toThrow(/not one of/);
  });

  it("reads the pooling from models.sh's model.json, else from the dir's name, else the mean", () => {
    const root = mkdtempSync(join(tmpdir(), 'models-'));
    try {
      const written = join(root, 'custom');
      mkdirSync(written);
      writeFileSync(join(written, 'model.json'), '{"name":"bge-small-en-v15-q","pooling":"cls"}');
      expect(modelInfo(written)).toEqual({ name: 'bge-small-en-v15-q', pooling: 'cls' });
      expect(modelInfo(join(root, 'bge-small-en-v15-q'))).toEqual({ name: 'bge-small-en-v15-q', pooling: 'cls' });
      expect(modelInfo(join(root, 'all-minilm-l6-v2-q'))).toEqual({ name: 'all-minilm-l6-v2-q', pooling: 'mean' });
      expect(modelInfo(join(root, 'other'))).toEqual({ name: 'other', pooling: 'mean' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("fuses with the model's own settings, under the index's options", () => {
    expect(fusionFor('all-minilm-l6-v2-q')).toEqual(DEFAULT_FUSION);
    expect(fusionFor(undefined)).toEqual(DEFAULT_FUSION);
    const bge = fusionFor('bge-small-en-v15-q');
    expect(bge.gateCentre).toBeGreaterThan(DEFAULT_FUSION.gateCentre);
    expect(bge.headWeight).toBe(DEFAULT_FUSION.headWeight);
    expect(fusionFor('bge-small-en-v15-q', { gateCentre: 0.1 }).gateCentre).toBe(0.1);
  });
});
