import { render } from 'preact';
import { App } from './app';
import { loadConfig } from './auth';
import { ErrorState } from './ui';
import { currentLang } from './i18n';
import './styles.css';

document.documentElement.lang = currentLang();
const root = document.getElementById('app')!;
// The configuration first (where the gateway is, how to sign in), then the app.
loadConfig().then(
  () => {
    root.textContent = ''; // the static 'Loading…' line
    render(<App />, root);
  },
  (error: unknown) => {
    root.textContent = '';
    render(<ErrorState message={(error as Error).message} code="CONFIG_UNAVAILABLE" retry={() => location.reload()} />, root);
  },
);
