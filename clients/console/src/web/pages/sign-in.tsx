import { useEffect, useState } from 'preact/hooks';
import { consoleConfig, devSignIn, finishOidcSignIn, startOidcSignIn, type ConsoleConfig, type Identity, type StaffRole } from '../auth';
import { LANGS, setLang, t, useLang } from '../i18n';
import { Notice } from '../ui';

export function SignInPage({
  callback,
  refused,
  onSignedIn,
}: {
  callback: boolean;
  refused: boolean;
  onSignedIn: (identity: Identity) => void;
}) {
  useLang();
  const c = consoleConfig();
  const [error, setError] = useState<string | null>(refused ? t('signIn.customer') : null);
  useEffect(() => {
    document.title = `${t('signIn.title')}`;
    if (!callback) return;
    finishOidcSignIn().then(onSignedIn, (e: unknown) => setError(t('signIn.failed', { message: (e as Error).message })));
  }, [callback]);

  return (
    <main id="main" class="signin">
      <div class="card signin-card">
        <h1>{t('signIn.title')}</h1>
        <label class="lang">
          {t('shell.language')}{' '}
          <select value={document.documentElement.lang} onChange={(e) => setLang((e.target as HTMLSelectElement).value as 'en')}>
            {LANGS.map((l) => (
              <option value={l.id} key={l.id}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
        <Notice text={error} tone="error" />
        {c.signIn === 'development' ? (
          <DevForm config={c} onSignedIn={onSignedIn} onError={setError} />
        ) : (
          <OidcForm config={c} onError={setError} />
        )}
      </div>
    </main>
  );
}

function DevForm({
  config,
  onSignedIn,
  onError,
}: {
  config: Extract<ConsoleConfig, { signIn: 'development' }>;
  onSignedIn: (identity: Identity) => void;
  onError: (message: string) => void;
}) {
  const [tenant, setTenant] = useState(config.tenants[0] ?? '');
  const [role, setRole] = useState<StaffRole>('admin');
  const [user, setUser] = useState('dev-admin');
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        devSignIn(tenant, role, user.trim() || `dev-${role}`).then(onSignedIn, (err: unknown) => {
          setBusy(false);
          onError(t('signIn.failed', { message: (err as Error).message }));
        });
      }}
    >
      <p>{t('signIn.devIntro')}</p>
      <label>
        {t('signIn.tenant')}
        <select name="tenant" value={tenant} onChange={(e) => setTenant((e.target as HTMLSelectElement).value)}>
          {config.tenants.map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>{t('signIn.role')}</legend>
        {(['admin', 'agent'] as const).map((r) => (
          <label class="inline" key={r}>
            <input
              type="radio"
              name="role"
              value={r}
              checked={role === r}
              onChange={() => {
                setRole(r);
                if (/^dev-(admin|agent)$/.test(user)) setUser(`dev-${r}`);
              }}
            />{' '}
            {t(`role.${r}`)}
          </label>
        ))}
      </fieldset>
      <label>
        {t('signIn.user')}
        <input name="user" value={user} maxLength={64} onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit" disabled={busy || !tenant}>
        {t('signIn.submit')}
      </button>
    </form>
  );
}

function OidcForm({ config, onError }: { config: Extract<ConsoleConfig, { signIn: 'oidc' }>; onError: (message: string) => void }) {
  return (
    <div class="stack">
      <p>{t('signIn.oidcIntro')}</p>
      <button
        type="button"
        onClick={() => startOidcSignIn(config).catch((err: unknown) => onError(t('signIn.failed', { message: (err as Error).message })))}
      >
        {t('signIn.oidcSubmit', { issuer: new URL(config.issuer).host })}
      </button>
    </div>
  );
}
