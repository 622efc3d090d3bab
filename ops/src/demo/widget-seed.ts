import { mintToken } from '@beedesk/gateway';
import { BeedeskClient } from '@beedesk/sdk';

/** The widget settings of a demo tenant after seeding: its public key, for the demo page's script tag. */
export interface DemoWidget {
  tenant: string;
  key: string;
}

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
    // The SDK's persisted operation, so the seeding also works on a gateway that runs persisted-only.
    const client = new BeedeskClient({ url: gatewayUrl, token });
    const settings = await client.updateWidgetSettings({
      allowedOrigins: origins,
      themeColor: tenant.themeColor,
      greeting: tenant.greeting ?? '',
    });
    widgets.push({ tenant: tenant.id, key: settings.key });
  }
  return widgets;
}
