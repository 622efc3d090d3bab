import { mountWidget, type MountedWidget } from './mount';
import type { TransportKind } from './transport';

declare global {
  interface Window {
    BeedeskWidget?: MountedWidget;
  }
}

/**
 * widget-app.js: loaded by widget.js, which copies its own data-* attributes (and nonce) onto this
 * script. Mounts the widget and exposes it as window.BeedeskWidget (open, close, ask).
 */
const script = document.currentScript as HTMLScriptElement | null;
const data = script?.dataset ?? {};
const widgetKey = data['widgetKey'];
if (widgetKey && !window.BeedeskWidget) {
  const start = () => {
    window.BeedeskWidget = mountWidget({
      widgetKey,
      gatewayUrl: data['gateway'] ?? new URL(script!.src).origin,
      lang: data['lang'],
      identityToken: data['identityToken'],
      nonce: script?.nonce || undefined,
      transport: (data['transport'] as TransportKind | undefined) ?? 'auto',
    });
    document.dispatchEvent(new CustomEvent('beedesk:ready'));
  };
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
}
