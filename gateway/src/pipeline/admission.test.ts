import { buildSchema } from 'graphql';
import { createAdmission } from './admission';
import type { AdmissionPlugin } from './plugin';
import { refusal } from './refusal';
import { useAuthentication } from './useAuthentication';
import { useDocument } from './useDocument';

const schema = buildSchema('type Query { a: Int }');

/** A plugin that records every hook it sees. */
const recorder = (name: string, seen: string[]): AdmissionPlugin => ({
  name,
  onConnected: () => void seen.push(`${name}.onConnected`),
  onRequest: () => void seen.push(`${name}.onRequest`),
  onParams: () => void seen.push(`${name}.onParams`),
  onResolveDocument: () => void seen.push(`${name}.onResolveDocument`),
  onOperation: () => void seen.push(`${name}.onOperation`),
  onAdmitted: () => void seen.push(`${name}.onAdmitted`),
  onSchedule: () => {
    seen.push(`${name}.onSchedule`);
    return () => void seen.push(`${name}.release`);
  },
});

describe('admission pipeline', () => {
  it('runs every phase in order, and within a phase the plugins in list order', async () => {
    const seen: string[] = [];
    const admission = createAdmission([
      useAuthentication({ kind: 'generic' }),
      recorder('one', seen),
      useDocument(schema).plugin,
      recorder('two', seen),
    ]);
    const connection = await admission.connect('http', {}, 'r1');
    if (!connection.ok) throw new Error('refused');
    expect(connection.caller).toEqual({ tenantId: 'public', userId: 'anonymous', roles: [], requestId: 'r1' });
    expect(await admission.request(connection)).toBeNull();
    const admitted = await admission.operation(connection, { query: '{ a }' });
    expect(admitted.ok).toBe(true);
    expect(seen).toEqual([
      'one.onConnected',
      'two.onConnected',
      'one.onRequest',
      'two.onRequest',
      'one.onParams',
      'two.onParams',
      'one.onResolveDocument',
      'two.onResolveDocument',
      'one.onOperation',
      'two.onOperation',
      'one.onAdmitted',
      'two.onAdmitted',
      'one.onSchedule',
      'two.onSchedule',
    ]);
    if (!admitted.ok) throw new Error('refused');
    admitted.release();
    admitted.release();
    expect(seen.slice(-2)).toEqual(['one.release', 'two.release']);
  });

  it('releases what earlier schedulers gave when a later one refuses', async () => {
    const seen: string[] = [];
    const admission = createAdmission([
      useAuthentication({ kind: 'generic' }),
      useDocument(schema).plugin,
      recorder('first', seen),
      { name: 'busy', onSchedule: () => refusal(503, 'SERVICE_UNAVAILABLE', 'busy') },
    ]);
    const connection = await admission.connect('http', {}, 'r1');
    if (!connection.ok) throw new Error('refused');
    const result = await admission.operation(connection, { query: '{ a }' });
    expect(result).toMatchObject({ ok: false, status: 503 });
    expect(seen.slice(-2)).toEqual(['first.onSchedule', 'first.release']);
  });

  it('stops at the first refusal: later hooks do not run', async () => {
    const seen: string[] = [];
    const admission = createAdmission([
      useAuthentication({ kind: 'generic' }),
      { name: 'refuse', onOperation: () => refusal(400, 'NOPE', 'no') },
      useDocument(schema).plugin,
      recorder('after', seen),
    ]);
    const connection = await admission.connect('graphql-ws', {}, 'r1');
    if (!connection.ok) throw new Error('refused');
    const result = await admission.operation(connection, { query: '{ a }' });
    expect(result).toMatchObject({ ok: false, status: 400 });
    expect(seen).not.toContain('after.onOperation');
    expect(seen).not.toContain('after.onAdmitted');
  });

  it('refuses a query text past MAX_QUERY_BYTES before resolving or parsing it', async () => {
    const seen: string[] = [];
    const admission = createAdmission([
      useAuthentication({ kind: 'generic' }),
      useDocument(schema, { maxQueryBytes: 100, cacheMaxBytes: 10_000 }).plugin,
      recorder('after', seen),
    ]);
    const connection = await admission.connect('http', {}, 'r1');
    if (!connection.ok) throw new Error('refused');
    const result = await admission.operation(connection, { query: `{ a } #${'x'.repeat(100)}` });
    expect(result).toMatchObject({ ok: false, status: 413 });
    expect(!result.ok && result.errors[0]?.extensions['code']).toBe('QUERY_TOO_LARGE');
    expect(seen).not.toContain('after.onResolveDocument');
  });

  it('has no caller without an authentication plugin: the mode is chosen explicitly', async () => {
    const admission = createAdmission([useDocument(schema).plugin]);
    await expect(admission.connect('http', {}, 'r1')).rejects.toThrow(/useAuthentication/);
  });
});
