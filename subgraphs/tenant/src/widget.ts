import { badInput } from '@beedesk/runtime';
import { normaliseOrigin, WIDGET_POSITIONS, type WidgetSettingsRecord, type WidgetSettingsUpdate } from './data';
import { requireAdmin } from './admin';
import type { Resolvers, WidgetSettingsInput } from './generated/resolvers';

export const WIDGET_LIMITS = { origins: 50, greeting: 500 } as const;
const COLOR = /^#[0-9a-fA-F]{6}$/;

/** Checks an updateWidgetSettings input; every refusal names the field. */
export function widgetUpdateFromInput(input: WidgetSettingsInput): WidgetSettingsUpdate {
  const update: WidgetSettingsUpdate = {};
  if (input.allowedOrigins != null) {
    if (input.allowedOrigins.length > WIDGET_LIMITS.origins) {
      throw badInput(`allowedOrigins: at most ${WIDGET_LIMITS.origins}`, 'allowedOrigins');
    }
    const origins = input.allowedOrigins.map((value) => {
      const origin = normaliseOrigin(value);
      if (!origin) throw badInput('allowedOrigins: each scheme://host[:port] with http or https, no path', 'allowedOrigins');
      return origin;
    });
    update.allowedOrigins = [...new Set(origins)];
  }
  if (input.themeColor != null) {
    if (!COLOR.test(input.themeColor)) throw badInput('themeColor: #rrggbb', 'themeColor');
    update.themeColor = input.themeColor.toLowerCase();
  }
  if (input.greeting != null) {
    const greeting = input.greeting.trim();
    // eslint-disable-next-line no-control-regex
    if (greeting.length > WIDGET_LIMITS.greeting || /[\u0000-\u0009\u000b-\u001f\u007f]/.test(greeting)) {
      throw badInput(`greeting: at most ${WIDGET_LIMITS.greeting} characters, no control characters`, 'greeting');
    }
    update.greeting = greeting;
  }
  if (input.position != null) {
    if (!WIDGET_POSITIONS.includes(input.position)) throw badInput('position: BOTTOM_RIGHT or BOTTOM_LEFT', 'position');
    update.position = input.position;
  }
  return update;
}

/** The settings as the schema shows them: never the identity secret, only whether there is one. */
const widgetOut = ({ identitySecret, ...settings }: WidgetSettingsRecord) => ({
  ...settings,
  identityVerification: identitySecret !== null,
});

/** The web chat widget's settings: admins read and change them; the gateway reads them to admit visitors. */
export const widgetResolvers = {
  Tenant: {
    widget: async (_tenant, _args, context) => {
      requireAdmin(context, 'see the widget settings');
      return widgetOut(await context.widget.get(context.caller.tenantId));
    },
  },
  Mutation: {
    updateWidgetSettings: async (_root, { input }, context) => {
      requireAdmin(context, 'change the widget settings');
      const update = widgetUpdateFromInput(input);
      const settings = await context.widget.update(context.caller.tenantId, update);
      context.log.info({ fields: Object.keys(update), origins: settings.allowedOrigins.length }, 'widget settings updated');
      return widgetOut(settings);
    },
    rotateWidgetKey: async (_root, _args, context) => {
      requireAdmin(context, 'rotate the widget key');
      const settings = await context.widget.rotateKey(context.caller.tenantId);
      context.log.info('widget key rotated');
      return widgetOut(settings);
    },
    rotateWidgetIdentitySecret: async (_root, _args, context) => {
      requireAdmin(context, 'create the widget identity secret');
      const secret = await context.widget.rotateIdentitySecret(context.caller.tenantId);
      context.log.info('widget identity secret rotated');
      return secret;
    },
  },
} satisfies Pick<Resolvers, 'Tenant' | 'Mutation'>;
