/**
 * The widget's styles, inside its shadow root. `:host { all: initial !important }` cuts the inherited
 * properties (font, colour, line height, letter spacing…) that would otherwise flow in from a hostile host
 * page, even from its `* { … !important }` rules (for important declarations the shadow root's own win);
 * selectors of the page never reach inside. Theming: the tenant's colour sets --bd-accent, and a host page
 * may override any --bd-* custom property on the <beedesk-widget> element.
 */
export const WIDGET_CSS = `
:host{all:initial!important;position:fixed!important;z-index:2147483000!important;bottom:0!important;right:0!important;display:block!important;
width:0!important;height:0!important;font:15px/1.45 var(--bd-font)!important;color:var(--bd-fg)!important;
--bd-accent:#1f5fbf;--bd-on-accent:#fff;--bd-bg:#fff;--bd-fg:#1b1f24;--bd-muted:#59636e;--bd-border:#d0d7de;
--bd-user-bg:var(--bd-accent);--bd-user-fg:var(--bd-on-accent);--bd-bot-bg:#f1f3f5;--bd-radius:14px;
--bd-font:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif}
:host([data-position=left]){right:auto!important;left:0!important}
*,*::before,*::after{box-sizing:border-box;margin:0;padding:0;font:inherit;color:inherit;letter-spacing:normal;text-transform:none}
button{cursor:pointer;border:0;background:none}
a{color:var(--bd-accent);text-decoration:underline}
:focus-visible{outline:3px solid var(--bd-accent);outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap}
.launcher{position:fixed;bottom:20px;right:20px;width:60px;height:60px;border-radius:50%;background:var(--bd-accent);color:var(--bd-on-accent);
display:flex;align-items:center;justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.25);transition:transform .15s}
:host([data-position=left]) .launcher{right:auto;left:20px}
.launcher:hover{transform:scale(1.06)}
.launcher svg{width:28px;height:28px;fill:currentColor}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#c62828;color:#fff;
font-size:12px;font-weight:700;line-height:22px;text-align:center}
.panel{position:fixed;bottom:92px;right:20px;width:380px;height:min(620px,calc(100vh - 112px));display:flex;flex-direction:column;
background:var(--bd-bg);border:1px solid var(--bd-border);border-radius:var(--bd-radius);box-shadow:0 12px 40px rgba(0,0,0,.22);overflow:hidden;
animation:bd-in .18s ease-out}
:host([data-position=left]) .panel{right:auto;left:20px}
@keyframes bd-in{from{opacity:0;transform:translateY(12px)}to{opacity:1;transform:none}}
.head{display:flex;align-items:center;gap:12px;padding:14px 16px;background:var(--bd-accent);color:var(--bd-on-accent)}
.head h2{font-size:17px;font-weight:700}
.head p{font-size:13px;opacity:.9}
.head .x{margin-left:auto;width:36px;height:36px;border-radius:8px;color:var(--bd-on-accent);font-size:22px;line-height:1}
.head .x:focus-visible{outline-color:var(--bd-on-accent)}
.status{padding:6px 16px;font-size:13px;background:#fff4ce;color:#5c4400}
.log{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}
.msg{max-width:86%;padding:9px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.msg.user{align-self:flex-end;background:var(--bd-user-bg);color:var(--bd-user-fg);border-bottom-right-radius:4px}
.msg.assistant,.msg.agent,.msg.system{align-self:flex-start;background:var(--bd-bot-bg);border-bottom-left-radius:4px}
.msg.system{background:none;color:var(--bd-muted);font-size:13px;align-self:center;text-align:center}
.msg .who{display:block;font-size:12px;font-weight:700;color:var(--bd-muted);margin-bottom:2px}
.thinking{color:var(--bd-muted);font-style:italic}
.dots::after{content:"";display:inline-block;width:1.2em;text-align:left;animation:bd-dots 1.2s steps(4) infinite}
@keyframes bd-dots{0%{content:""}25%{content:"."}50%{content:".."}75%{content:"..."}}
.sources{margin-top:8px;font-size:13px;white-space:normal}
.sources h3{font-size:12px;font-weight:700;color:var(--bd-muted);text-transform:uppercase;letter-spacing:.04em}
.sources ul{list-style:none}
.sources li{margin-top:4px}
.article{margin-top:4px;padding:8px;border-left:3px solid var(--bd-accent);background:var(--bd-bg);white-space:pre-wrap}
.fb{display:flex;gap:6px;margin-top:8px}
.fb button{display:inline-flex;align-items:center;gap:4px;padding:4px 10px;border:1px solid var(--bd-border);border-radius:14px;font-size:13px;background:var(--bd-bg)}
.fb button[aria-pressed=true]{background:var(--bd-accent);color:var(--bd-on-accent);border-color:var(--bd-accent)}
.note{font-size:13px;color:var(--bd-muted);margin-top:6px}
.human{align-self:center;padding:6px 14px;border:1px solid var(--bd-accent);border-radius:16px;color:var(--bd-accent);font-size:14px;background:var(--bd-bg)}
form{display:flex;gap:8px;padding:10px;border-top:1px solid var(--bd-border);background:var(--bd-bg)}
textarea{flex:1;resize:none;min-height:44px;max-height:120px;padding:10px 12px;border:1px solid var(--bd-border);border-radius:10px;
font-size:16px;line-height:1.35;background:var(--bd-bg);color:var(--bd-fg)}
.send{min-width:64px;padding:0 14px;border-radius:10px;background:var(--bd-accent);color:var(--bd-on-accent);font-weight:700}
.send:disabled{opacity:.5;cursor:default}
@media (max-width:600px){
.panel{inset:0;top:0;bottom:auto;right:0;left:0;width:100%;height:var(--bd-vvh,100dvh);border-radius:0;border:0}
:host([data-open]) .launcher{display:none}
}
@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;transition:none!important}.dots::after{content:"..."}}
@media (forced-colors:active){.launcher,.send,.msg{border:1px solid CanvasText}}
`;
