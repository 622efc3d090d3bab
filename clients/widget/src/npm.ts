/** `@beedesk/widget` for apps that bundle it: `mountWidget({ widgetKey, gatewayUrl })`. */
export { mountWidget, type MountedWidget, type WidgetConfig } from './mount';
export { WidgetController, type WidgetState } from './controller';
export { pickLocale, type Locale } from './i18n';
