import { TenantStore } from '@beedesk/runtime';

/**
 * Confidence the answer engine needs to answer on its own, unless the tenant sets another: below it the
 * answer offers suggestions and is marked for a human. Chosen on BANKING77 cross-validation (see the
 * inference subgraph's eval): about 2.5% of questions are answered confidently but wrongly at 0.8.
 */
export const DEFAULT_ANSWER_CONFIDENCE_THRESHOLD = 0.8;

export interface TenantRecord {
  id: string;
  name: string;
  createdAt: string;
  /** Null when the tenant has not set one (DEFAULT_ANSWER_CONFIDENCE_THRESHOLD applies). */
  answerConfidenceThreshold: number | null;
}

export interface TenantUpdate {
  name?: string;
  answerConfidenceThreshold?: number;
}

/** Field of the tenant hash holding the threshold (read by the answer engine, see ArticleRepository.knowledgeState). */
export const THRESHOLD_FIELD = 'answerConfidenceThreshold';

export function parseThreshold(raw: string | null | undefined): number | null {
  if (raw == null || raw === '') return null;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 && value <= 1 ? value : null;
}

export class TenantRepository extends TenantStore {
  async get(tenantId: string): Promise<TenantRecord | null> {
    const fields = await this.redis.hgetall(this.keys(tenantId).tenant);
    if (!fields['name']) return null;
    return {
      id: tenantId,
      name: fields['name'],
      createdAt: fields['createdAt'] ?? new Date(0).toISOString(),
      answerConfidenceThreshold: parseThreshold(fields[THRESHOLD_FIELD]),
    };
  }

  async upsert(tenantId: string, name: string, now = new Date()): Promise<TenantRecord> {
    return this.update(tenantId, { name }, now);
  }

  /**
   * Sets the given settings (the record is created on first use, named after the tenant id unless a
   * name is given). Fields left out keep their value.
   */
  async update(tenantId: string, update: TenantUpdate, now = new Date()): Promise<TenantRecord> {
    const key = this.keys(tenantId).tenant;
    const multi = this.redis.multi().hsetnx(key, 'createdAt', now.toISOString());
    if (update.name !== undefined) multi.hset(key, 'name', update.name);
    else multi.hsetnx(key, 'name', tenantId);
    if (update.answerConfidenceThreshold !== undefined) multi.hset(key, THRESHOLD_FIELD, String(update.answerConfidenceThreshold));
    await multi.exec();
    return (await this.get(tenantId)) as TenantRecord;
  }
}
