import { BeedeskClient } from '@beedesk/sdk';
import { mintToken } from '@beedesk/gateway';
import { demoTenants, type DemoTenant } from './data';

/**
 * Seeds the demo tenants through the public API (as their admin), so seeding works the same
 * against the embedded default and a real deployment. Idempotent: articles have fixed ids.
 */
export async function seedDemoTenants(
  gatewayUrl: string,
  { tenants = demoTenants(), jwtSecret }: { tenants?: DemoTenant[]; jwtSecret?: string } = {},
): Promise<{ tenant: string; articles: number }[]> {
  const seeded = [];
  for (const tenant of tenants) {
    const token = await mintToken({ tenant: tenant.id, user: 'demo-seeder', roles: ['admin'], ttlSeconds: 600, secret: jwtSecret });
    const client = new BeedeskClient({ url: gatewayUrl, token });
    await client.updateTenant(tenant.name);
    for (const article of tenant.articles) await client.upsertArticle(article);
    seeded.push({ tenant: tenant.id, articles: tenant.articles.length });
  }
  return seeded;
}
