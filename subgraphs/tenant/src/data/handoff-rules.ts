import { TenantStore } from '@beedesk/runtime';

/** The tenant's human-handoff rules (schema HandoffRules), stored as JSON in the tenant hash. */
export interface HandoffRulesRecord {
  enabled: boolean;
  unsureThreshold: number | null;
  unsureConsecutive: number;
  onOutOfScope: boolean;
  onEngineFailure: boolean;
  keywords: string[];
  timeZone: string;
  workingHours: { days: number[]; from: string; to: string }[];
  whenUnavailable: 'WAIT' | 'RETURN_TO_BOT';
  defaultAgentCapacity: number;
  autoAssign: boolean;
}

export const DEFAULT_HANDOFF_RULES: HandoffRulesRecord = {
  // Opt-in: existing tenants' conversations keep going to the bot until an admin enables the rules.
  enabled: false,
  unsureThreshold: null,
  unsureConsecutive: 2,
  onOutOfScope: true,
  onEngineFailure: true,
  keywords: ['human', 'agent', '人工'],
  timeZone: 'UTC',
  workingHours: [],
  whenUnavailable: 'WAIT',
  defaultAgentCapacity: 3,
  autoAssign: true,
};

/** Field of the tenant hash holding the rules (JSON of the fields an admin set). */
export const HANDOFF_RULES_FIELD = 'handoffRules';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

/** Why a rules update is refused: the field and what it must be; null when valid. */
export function invalidHandoffRule(rules: HandoffRulesRecord): { field: string; message: string } | null {
  if (rules.unsureThreshold !== null && !(rules.unsureThreshold >= 0 && rules.unsureThreshold <= 1)) {
    return { field: 'unsureThreshold', message: 'a number from 0 to 1, or null' };
  }
  if (!Number.isInteger(rules.unsureConsecutive) || rules.unsureConsecutive < 1 || rules.unsureConsecutive > 20) {
    return { field: 'unsureConsecutive', message: 'an integer from 1 to 20' };
  }
  if (rules.keywords.length > 20 || rules.keywords.some((k) => !k.trim() || k.trim().length > 40)) {
    return { field: 'keywords', message: 'at most 20, each 1 to 40 characters' };
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: rules.timeZone });
  } catch {
    return { field: 'timeZone', message: 'an IANA time zone, e.g. Europe/Berlin' };
  }
  if (rules.workingHours.length > 14) return { field: 'workingHours', message: 'at most 14 spans' };
  for (const span of rules.workingHours) {
    if (span.days.length === 0 || span.days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) {
      return { field: 'workingHours', message: 'days: ISO weekdays 1 (Monday) to 7 (Sunday)' };
    }
    if (!HHMM.test(span.from) || !HHMM.test(span.to) || span.from >= span.to) {
      return { field: 'workingHours', message: 'from and to: HH:MM (24 h), from before to' };
    }
  }
  if (!Number.isInteger(rules.defaultAgentCapacity) || rules.defaultAgentCapacity < 1 || rules.defaultAgentCapacity > 100) {
    return { field: 'defaultAgentCapacity', message: 'an integer from 1 to 100' };
  }
  return null;
}

/** The rules as stored, over the defaults (a field an older build did not know keeps its default). */
export function parseHandoffRules(raw: string | null | undefined): HandoffRulesRecord {
  if (!raw) return { ...DEFAULT_HANDOFF_RULES };
  try {
    return { ...DEFAULT_HANDOFF_RULES, ...(JSON.parse(raw) as Partial<HandoffRulesRecord>) };
  } catch {
    return { ...DEFAULT_HANDOFF_RULES };
  }
}

export class HandoffRulesRepository extends TenantStore {
  async get(tenantId: string): Promise<HandoffRulesRecord> {
    return parseHandoffRules(await this.redis.hget(this.keys(tenantId).tenant, HANDOFF_RULES_FIELD));
  }

  async set(tenantId: string, rules: HandoffRulesRecord, now = new Date()): Promise<HandoffRulesRecord> {
    const key = this.keys(tenantId).tenant;
    await this.redis
      .multi()
      .hsetnx(key, 'createdAt', now.toISOString())
      .hsetnx(key, 'name', tenantId)
      .hset(key, HANDOFF_RULES_FIELD, JSON.stringify(rules))
      .exec();
    return rules;
  }
}
