import { Vectoriser, extractFeatures } from './features';

const docs = ['my card has not arrived', 'where is my new card', 'I forgot my password', 'reset my password'].map(extractFeatures);

describe('Vectoriser.extend', () => {
  const fitted = new Vectoriser();
  const vectors = fitted.fit(docs);

  it('keeps every known feature’s id and idf, so known texts vectorise exactly as before', () => {
    const extended = fitted.extend(['can I insure my dog', 'is my dog covered by insurance'].map(extractFeatures));
    expect(extended.dimension).toBeGreaterThan(fitted.dimension);
    docs.forEach((doc, i) => expect(extended.transform(doc)).toEqual(vectors[i]));
    fitted.forEachFeature((block, key, id) => expect(extended.idOf(block, key) ?? id).toBe(id));
  });

  it('gives new features ids after the old ones, with idf over all texts, old and new', () => {
    const added = ['can I insure my dog', 'is my dog covered by insurance'].map(extractFeatures);
    const extended = fitted.extend(added);
    const v = extended.transform(extractFeatures('dog'));
    const dogIds = [...v.ids].filter((id) => id >= fitted.dimension);
    expect(dogIds.length).toBeGreaterThan(0);
    expect(fitted.transform(extractFeatures('dog')).ids).toHaveLength(0);
    // "dog" is in 2 of 6 texts: idf = ln(7 / 3) + 1, the same formula as fit().
    const reference = new Vectoriser();
    reference.fit([...docs, ...added]);
    const word = (vec: Vectoriser) => vec.transform([new Map([['dog', 1]]), new Map(), new Map()]).values[0];
    expect(word(extended)).toBeCloseTo(word(reference) as number, 6);
  });

  it('applies minDf within the new texts and refuses to extend an extension', () => {
    const extended = fitted.extend([extractFeatures('zebra')]);
    // Character n-grams need two texts (minDf 2); the word itself needs one.
    expect(extended.transform([new Map([['zebra', 1]]), new Map(), new Map()]).ids).toHaveLength(1);
    expect(extended.transform([new Map(), new Map(), new Map([['zeb', 1]])]).ids).toHaveLength(0);
    expect(() => extended.extend(docs)).toThrow();
  });
});
