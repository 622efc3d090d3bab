import { randomBytes } from 'node:crypto';

/**
 * Strings planted in one tenant's data, so their appearance anywhere they must not be (another
 * tenant's response, a log line, a key) is unambiguous. `tenantWide` is what every user of the
 * tenant may see (its name, articles); `private` is one customer's own (session and answer ids,
 * question and answer texts), which the tenant's other customers must not see.
 */
export class Planted {
  readonly tenantWide: string[] = [];
  readonly private: string[] = [];
  private readonly tag: string;

  constructor(label: string) {
    this.tag = `${label}${randomBytes(3).toString('hex')}`;
  }

  /** A unique word for a text field, e.g. `mkA1f2e3c-title1`; remembered as tenant-wide or private. */
  text(name: string, scope: 'tenantWide' | 'private' = 'tenantWide'): string {
    const word = `mk${this.tag}x${name}`;
    this[scope].push(word);
    return word;
  }

  /** A unique id for something the caller names (an article), e.g. `A1f2e3c-card`. */
  id(name: string): string {
    return this.add(`${this.tag}-${name}`);
  }

  /** Remembers a value (an id the server minted) as planted. */
  add(value: string, scope: 'tenantWide' | 'private' = 'tenantWide'): string {
    this[scope].push(value);
    return value;
  }

  /** Texts only (no ids): what must never reach a log line. */
  get texts(): string[] {
    return [...this.tenantWide, ...this.private].filter((s) => s.startsWith(`mk${this.tag}x`));
  }

  get all(): string[] {
    return [...this.tenantWide, ...this.private];
  }
}

/**
 * The planted strings found in `response`, leaving out any the caller sent itself (an id echoed
 * in an error message or in a "(removed article)" placeholder reveals nothing the caller lacked).
 */
export function leaksIn(response: unknown, planted: readonly string[], sent: unknown = ''): string[] {
  const body = typeof response === 'string' ? response : JSON.stringify(response);
  const request = typeof sent === 'string' ? sent : JSON.stringify(sent);
  return [...new Set(planted)].filter((value) => body.includes(value) && !request.includes(value));
}
