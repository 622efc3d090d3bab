import { render } from 'preact';
import { WidgetApi } from './api';
import { WidgetController } from './controller';
import { messagesFor, pickLocale, type Locale } from './i18n';
import { WIDGET_CSS } from './styles';
import type { TransportKind } from './transport';
import { WidgetView } from './view';

export interface WidgetConfig {
  /** The tenant's public widget key (bdw_…). */
  widgetKey: string;
  /** Where the beedesk gateway is, e.g. https://chat.example.com (no trailing slash). */
  gatewayUrl: string;
  /** en or zh-CN; default: the page's lang, else the browser's languages. */
  lang?: string;
  /** A token the host's backend signed for its logged-in user (identity-verified mode). */
  identityToken?: string;
  /** Nonce for the widget's <style> on browsers without constructable stylesheets (CSP style-src). */
  nonce?: string;
  /** `auto` (graphql-ws, SSE when WebSockets are blocked), `ws` or `sse`. */
  transport?: TransportKind;
  /** Where to put the widget (default: the end of <body>). */
  container?: HTMLElement;
}

export interface MountedWidget {
  open(): void;
  close(): void;
  ask(text: string): Promise<boolean>;
  /** Switches to identity-verified mode with a token the host's backend signed for its logged-in user. */
  identify(identityToken: string): Promise<void>;
  readonly locale: Locale;
  readonly controller: WidgetController;
  destroy(): void;
}

/**
 * Sets the widget's style sheets by slot: constructable stylesheets where supported (not subject to a
 * page's CSP style-src), else <style nonce> elements.
 */
function stylesheets(root: ShadowRoot, nonce: string | undefined): (slot: number, css: string) => void {
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheets = [new CSSStyleSheet(), new CSSStyleSheet()];
    root.adoptedStyleSheets = sheets;
    return (slot, css) => sheets[slot]!.replaceSync(css);
  }
  const styles = [0, 1].map(() => {
    const style = document.createElement('style');
    if (nonce) style.nonce = nonce;
    root.appendChild(style);
    return style;
  });
  return (slot, css) => void (styles[slot]!.textContent = css);
}

const safeStorage = (): Storage | null => {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
};

/**
 * Mounts the widget in a shadow root on its own element (<beedesk-widget>): page styles cannot reach in,
 * and its styles cannot leak out. Styles go in as a constructable stylesheet (not subject to a page's CSP
 * style-src), or as a <style nonce> where those are unsupported.
 */
export function mountWidget(config: WidgetConfig): MountedWidget {
  const host = document.createElement('beedesk-widget');
  const root = host.attachShadow({ mode: 'open' });
  const setCss = stylesheets(root, config.nonce);
  setCss(0, WIDGET_CSS);
  // The tenant's colour as a :host rule: the host page's own --bd-* declarations on <beedesk-widget> still win.
  const applyTheme = (color: string) => setCss(1, /^#[0-9a-fA-F]{6}$/.test(color) ? `:host{--bd-accent:${color}}` : '');
  (config.container ?? document.body).appendChild(host);
  const locale = pickLocale(config.lang, document.documentElement.lang, navigator.languages ?? [navigator.language]);
  host.setAttribute('lang', locale);
  const storage = safeStorage();
  const api = new WidgetApi({
    gatewayUrl: config.gatewayUrl.replace(/\/+$/, ''),
    widgetKey: config.widgetKey,
    identityToken: config.identityToken,
    locale,
    storage,
  });
  const controller = new WidgetController(api, { widgetKey: config.widgetKey, transport: config.transport ?? 'auto', storage, locale });
  const mountPoint = document.createElement('div');
  mountPoint.setAttribute('lang', locale);
  root.appendChild(mountPoint);
  render(<WidgetView controller={controller} t={messagesFor(locale)} host={host} applyTheme={applyTheme} />, mountPoint);
  controller.init();
  return {
    open: () => controller.setOpen(true),
    close: () => controller.setOpen(false),
    ask: (text) => controller.ask(text),
    identify: (token) => controller.identify(token),
    locale,
    controller,
    destroy: () => {
      controller.stop();
      render(null, mountPoint);
      host.remove();
    },
  };
}
