import { DEFAULT_HANDOFF_RULES, invalidHandoffRule, parseHandoffRules } from './handoff-rules';

describe('handoff rules', () => {
  it('are opt-in with the documented defaults', () => {
    expect(parseHandoffRules(null)).toEqual(DEFAULT_HANDOFF_RULES);
    expect(DEFAULT_HANDOFF_RULES).toMatchObject({
      enabled: false,
      unsureConsecutive: 2,
      keywords: ['human', 'agent', '人工'],
      whenUnavailable: 'WAIT',
    });
  });
  it('keep defaults for fields a stored value lacks, and survive a corrupt value', () => {
    expect(parseHandoffRules('{"enabled":true}')).toEqual({ ...DEFAULT_HANDOFF_RULES, enabled: true });
    expect(parseHandoffRules('{')).toEqual(DEFAULT_HANDOFF_RULES);
  });
  it.each([
    [{ unsureThreshold: 1.5 }, 'unsureThreshold'],
    [{ unsureConsecutive: 0 }, 'unsureConsecutive'],
    [{ keywords: [' '] }, 'keywords'],
    [{ timeZone: 'Mars/Olympus' }, 'timeZone'],
    [{ workingHours: [{ days: [8], from: '09:00', to: '17:00' }] }, 'workingHours'],
    [{ workingHours: [{ days: [1], from: '18:00', to: '09:00' }] }, 'workingHours'],
    [{ defaultAgentCapacity: 0 }, 'defaultAgentCapacity'],
  ])('refuses %j naming %s', (change, field) => {
    expect(invalidHandoffRule({ ...DEFAULT_HANDOFF_RULES, ...change })?.field).toBe(field);
  });
  it('accepts valid rules', () => {
    expect(
      invalidHandoffRule({
        ...DEFAULT_HANDOFF_RULES,
        timeZone: 'Asia/Shanghai',
        workingHours: [{ days: [1, 2], from: '09:00', to: '24:00' }],
      }),
    ).toBeNull();
  });
});
