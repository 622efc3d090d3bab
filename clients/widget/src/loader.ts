/**
 * widget.js, the one script tag a site adds:
 *   <script src="https://<gateway>/widget/widget.js" data-widget-key="bdw_…" async></script>
 * It only loads widget-app.js from beside itself, handing over its data-* attributes and its nonce,
 * so it works under a strict Content-Security-Policy (no eval, no inline script; nonce-based policies
 * with 'strict-dynamic' trust the script it adds).
 */
(() => {
  const self = document.currentScript as HTMLScriptElement | null;
  if (!self || document.querySelector('script[data-beedesk-app]')) return;
  const app = document.createElement('script');
  app.src = new URL('widget-app.js', self.src).href;
  app.async = true;
  if (self.nonce) app.nonce = self.nonce;
  for (const [name, value] of Object.entries(self.dataset)) if (value !== undefined) app.dataset[name] = value;
  app.dataset['beedeskApp'] = '';
  (document.head ?? document.documentElement).appendChild(app);
})();
