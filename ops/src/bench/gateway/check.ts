/**
 * Per-response correctness check of the gateway benchmark. The fast path is an exact string
 * comparison with the bodies already accepted (a length check, then memcmp: cheaper than hashing the
 * body). Anything else takes the slow path once: parse, look for `errors`, compare `data` with the
 * expected data. A body with the same data that differs only in formatting, extra top-level keys
 * (`extensions`) or object key order is accepted (unless strictOrder for the key order) and noted as a
 * variant, and its exact text joins the accepted set, so later identical bodies take the fast path.
 */
import { createHash } from 'node:crypto';

export interface Variant {
  note: string;
  count: number;
  sha256: string;
}

export interface WrongSample {
  status: number;
  reason: string;
  body: string;
}

const MAX_ACCEPTED = 8;
const SAMPLE_CHARS = 500;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The first place where two JSON values differ, ignoring object key order; undefined when equal. */
export function firstDifference(expected: unknown, actual: unknown, path = 'data'): string | undefined {
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual)) return `at ${path}: got ${show(actual)}, expected ${show(expected)}`;
    if (expected.length !== actual.length) return `at ${path}: got ${actual.length} items, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const d = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (isObject(expected) || isObject(actual)) {
    if (!isObject(expected) || !isObject(actual)) return `at ${path}: got ${show(actual)}, expected ${show(expected)}`;
    const missing = Object.keys(expected).filter((k) => !(k in actual));
    if (missing.length > 0) return `at ${path}: missing ${missing.join(', ')}`;
    const extra = Object.keys(actual).filter((k) => !(k in expected));
    if (extra.length > 0) return `at ${path}: unexpected ${extra.join(', ')}`;
    for (const k of Object.keys(expected)) {
      const d = firstDifference(expected[k], actual[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return Object.is(expected, actual) ? undefined : `at ${path}: got ${show(actual)}, expected ${show(expected)}`;
}

/** The first object whose keys come in another order than expected (values assumed equal). */
export function firstKeyOrderDifference(expected: unknown, actual: unknown, path = 'data'): string | undefined {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    for (let i = 0; i < expected.length; i++) {
      const d = firstKeyOrderDifference(expected[i], actual[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (isObject(expected) && isObject(actual)) {
    const e = Object.keys(expected);
    const a = Object.keys(actual);
    if (e.join('\0') !== a.join('\0')) return `key order differs at ${path}: got [${a.join(', ')}], expected [${e.join(', ')}]`;
    for (const k of e) {
      const d = firstKeyOrderDifference(expected[k], actual[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  return undefined;
}

export class ResponseChecker {
  readonly expectedData: unknown;
  readonly expectedSha256: string;
  private readonly accepted: { body: string; variant?: Variant }[];
  ok = 0;
  wrong = 0;
  non2xx = 0;
  readonly variants = new Map<string, Variant>();
  firstWrong: WrongSample | undefined;

  constructor(
    readonly expectedBody: string,
    private readonly strictOrder = false,
  ) {
    this.accepted = [{ body: expectedBody }];
    this.expectedData = (JSON.parse(expectedBody) as { data: unknown }).data;
    this.expectedSha256 = sha256(expectedBody);
  }

  get total(): number {
    return this.ok + this.wrong + this.non2xx;
  }

  /** Checks one response; true when it is correct. */
  check(status: number, body: string): boolean {
    if (status < 200 || status > 299) {
      this.non2xx++;
      this.firstWrong ??= { status, reason: `HTTP ${status}`, body: body.slice(0, SAMPLE_CHARS) };
      return false;
    }
    for (const a of this.accepted) {
      if (a.body.length === body.length && a.body === body) {
        this.ok++;
        if (a.variant) a.variant.count++;
        return true;
      }
    }
    const verdict = this.judge(body);
    if (verdict.ok) {
      this.ok++;
      let variant = this.variants.get(verdict.note);
      if (variant) variant.count++;
      else this.variants.set(verdict.note, (variant = { note: verdict.note, count: 1, sha256: sha256(body) }));
      if (this.accepted.length < MAX_ACCEPTED) this.accepted.push({ body, variant });
      return true;
    }
    this.wrong++;
    this.firstWrong ??= { status, reason: verdict.note, body: body.slice(0, SAMPLE_CHARS) };
    return false;
  }

  /** The slow path: why a body that is not byte-identical to an accepted one is right or wrong. */
  judge(body: string): { ok: boolean; note: string } {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { ok: false, note: 'body is not JSON' };
    }
    if (!isObject(parsed)) return { ok: false, note: 'body is not a JSON object' };
    if (parsed.errors !== undefined) {
      const first = Array.isArray(parsed.errors) && isObject(parsed.errors[0]) ? parsed.errors[0].message : parsed.errors;
      return { ok: false, note: `errors: ${show(first)}` };
    }
    const difference = firstDifference(this.expectedData, parsed.data);
    if (difference) return { ok: false, note: difference };

    const notes: string[] = [];
    const order = firstKeyOrderDifference(this.expectedData, parsed.data);
    if (order) {
      if (this.strictOrder) return { ok: false, note: order };
      notes.push(order);
    }
    const extra = Object.keys(parsed).filter((k) => k !== 'data');
    if (extra.length > 0) notes.push(`extra top-level keys: ${extra.join(', ')}`);
    if (notes.length === 0) {
      notes.push(body.trimEnd() === this.expectedBody ? 'formatting only: trailing whitespace' : 'formatting only: whitespace');
    }
    return { ok: true, note: `same data; ${notes.join('; ')}` };
  }
}
