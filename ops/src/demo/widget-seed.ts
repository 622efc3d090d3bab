import { mintToken } from '@beedesk/gateway';

/** The widget settings of a demo tenant after seeding: its public key, for the demo page's script tag. */
export interface DemoWidget {
  tenant: string;
  key: string;
}

const SETTINGS = `mutation($input: WidgetSettingsInput!) { updateWidgetSettings(input: $input) { key allowedOrigins } }`;

/**
 * Lets the demo pages use the demo tenants' widgets: allows `origins` (the embedded gateway's own, where
 * the demo pages are served) and returns each tenant's public widget key. Through the public API as the
 * tenant's admin, like the rest of the seeding.
 */
export async function seedDemoWidgets(
  gatewayUrl: string,
  tenants: { id: string; themeColor: string; greeting?: string }[],
  origins: string[],
  jwtSecret?: string,
): Promise<DemoWidget[]> {
  const widgets: DemoWidget[] = [];
  for (const tenant of tenants) {
    const token = await mintToken({ tenant: tenant.id, user: 'demo-seeder', roles: ['admin'], ttlSeconds: 600, secret: jwtSecret });
    const response = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: SETTINGS,
        variables: { input: { allowedOrigins: origins, themeColor: tenant.themeColor, greeting: tenant.greeting ?? '' } },
      }),
    });
    const body = (await response.json()) as { data?: { updateWidgetSettings: { key: string } }; errors?: { message: string }[] };
    if (!body.data) throw new Error(`widget settings of ${tenant.id}: ${body.errors?.[0]?.message ?? response.status}`);
    widgets.push({ tenant: tenant.id, key: body.data.updateWidgetSettings.key });
  }
  return widgets;
}
