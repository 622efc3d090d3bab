import { keyPart, legacyKeyPart } from './ids';

/** The inverse of keyPart: it exists only if the encoding is injective. */
function decode(encoded: string): string {
  return encoded.replace(/%u([0-9a-f]{4})|%([0-9a-f]{2})/g, (_, wide: string | undefined, narrow: string | undefined) =>
    String.fromCharCode(parseInt(wide ?? narrow!, 16)),
  );
}

describe('keyPart (user ids inside Redis keys)', () => {
  it('gives ids that shared a key under the earlier encoding distinct keys', () => {
    expect(legacyKeyPart('auth0|5f2d3c')).toBe(legacyKeyPart('auth0\u7c5f2d3c'));
    expect(keyPart('auth0|5f2d3c')).not.toBe(keyPart('auth0\u7c5f2d3c'));
  });

  it('is injective: every encoded id decodes back to itself, and only key-safe characters remain', () => {
    const samples = ['auth0|5f2d3c', 'auth0\u7c5f2d3c', 'a{b}c', 'user@example.com', '王小明', '😀|%u', '%7c', 'x\u0000y', 'a:b*c?'];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const length = 1 + Math.floor(random() * 12);
      // Mostly code units around the width boundaries (0x7f, 0xff/0x100, 0xffff), where collisions hid.
      samples.push(
        Array.from({ length }, () => {
          const pick = random();
          const code =
            pick < 0.3
              ? 0x20 + Math.floor(random() * 0x60)
              : pick < 0.6
                ? 0x80 + Math.floor(random() * 0x100)
                : Math.floor(random() * 0x10000);
          return String.fromCharCode(code);
        }).join(''),
      );
    }
    const seen = new Map<string, string>();
    for (const id of samples) {
      const encoded = keyPart(id);
      expect(encoded).toMatch(/^[A-Za-z0-9._@%-]*$/);
      expect(decode(encoded)).toBe(id);
      const earlier = seen.get(encoded);
      if (earlier !== undefined) expect(earlier).toBe(id);
      seen.set(encoded, id);
    }
  });

  it('keeps the key of ids with Latin-1 characters only (no migration for them)', () => {
    for (const id of ['auth0|5f2d3c', 'user@example.com', 'café', 'a b']) expect(keyPart(id)).toBe(legacyKeyPart(id));
    expect(keyPart('王')).toBe('%u738b');
  });
});
