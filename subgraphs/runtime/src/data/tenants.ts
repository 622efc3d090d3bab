import { TenantStore } from './store';

export interface TenantRecord {
  id: string;
  name: string;
  createdAt: string;
}

export class TenantRepository extends TenantStore {
  async get(tenantId: string): Promise<TenantRecord | null> {
    const fields = await this.redis.hgetall(this.keys(tenantId).tenant);
    if (!fields['name']) return null;
    return { id: tenantId, name: fields['name'], createdAt: fields['createdAt'] ?? new Date(0).toISOString() };
  }

  async upsert(tenantId: string, name: string, now = new Date()): Promise<TenantRecord> {
    const key = this.keys(tenantId).tenant;
    await this.redis.multi().hsetnx(key, 'createdAt', now.toISOString()).hset(key, 'name', name).exec();
    return (await this.get(tenantId)) as TenantRecord;
  }
}
