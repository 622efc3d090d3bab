import { useEffect, useState } from 'preact/hooks';
import { closeClient } from './api';
import { isAdmin, isStaff, signOut, storedIdentity, type Identity } from './auth';
import { LANGS, setLang, t, useLang, type MessageKey } from './i18n';
import { AdminPage } from './pages/admin';
import { InboxPage } from './pages/inbox';
import { KnowledgePage } from './pages/knowledge';
import { OverviewPage } from './pages/overview';
import { SignInPage } from './pages/sign-in';
import { navigate, useRoute, type Route } from './router';
import { ErrorState } from './ui';

interface NavItem {
  route: Route;
  label: MessageKey;
  /** Shown only to admins (the server refuses the page's operations to others anyway). */
  admin?: boolean;
}
const NAV: NavItem[] = [
  { route: 'inbox', label: 'nav.inbox' },
  { route: 'overview', label: 'nav.overview', admin: true },
  { route: 'knowledge', label: 'nav.knowledge' },
  { route: 'admin', label: 'nav.admin', admin: true },
];

const TITLE_BADGE = { count: 0 };
/** The document title, with the number of new assignments in front while there are any (the inbox sets it). */
export function setTitleBadge(count: number, section: string): void {
  TITLE_BADGE.count = count;
  document.title = `${count > 0 ? `(${count}) ` : ''}${section} · ${t('app.title')}`;
}

export function App() {
  useLang();
  const { route } = useRoute();
  const [identity, setIdentity] = useState<Identity | null>(() => storedIdentity());

  // The token's expiry signs the user out (the gateway would refuse it from then on).
  useEffect(() => {
    if (!identity || identity.exp === 0) return;
    const timer = setTimeout(() => leave(), Math.max(0, identity.exp * 1000 - Date.now()));
    return () => clearTimeout(timer);
  }, [identity]);

  const leave = () => {
    signOut();
    closeClient();
    setIdentity(null);
    navigate('sign-in');
  };

  if (!identity || route === 'sign-in' || route === 'callback' || !isStaff(identity)) {
    return (
      <SignInPage
        callback={route === 'callback'}
        refused={identity !== null && !isStaff(identity)}
        onSignedIn={(signedIn) => {
          setIdentity(signedIn);
          navigate(isAdmin(signedIn) ? 'overview' : 'knowledge');
        }}
      />
    );
  }

  const items = NAV.filter((item) => !item.admin || isAdmin(identity));
  const current = route && items.some((i) => i.route === route) ? route : (items[0]?.route ?? 'knowledge');
  const section = t(NAV.find((n) => n.route === current)!.label);
  if (TITLE_BADGE.count === 0) document.title = `${section} · ${t('app.title')}`;

  return (
    <div class="shell">
      <a class="skip" href="#main">
        {t('app.skip')}
      </a>
      <header class="topbar">
        <span class="brand">
          <span class="logo" aria-hidden="true">
            ●
          </span>
          {t('app.title')}
        </span>
        <span class="who">
          {t('shell.signedInAs', {
            user: identity.user,
            roles: identity.roles.map((r) => (r === 'agent' || r === 'admin' ? t(`role.${r}`) : r)).join(', '),
            tenant: identity.tenant,
          })}
        </span>
        <label class="lang">
          <span class="visually-hidden">{t('shell.language')}</span>
          <select value={document.documentElement.lang} onChange={(e) => setLang((e.target as HTMLSelectElement).value as 'en')}>
            {LANGS.map((l) => (
              <option value={l.id} key={l.id}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="secondary" onClick={leave}>
          {t('shell.signOut')}
        </button>
      </header>
      <nav class="sidenav" aria-label={t('nav.label')}>
        <ul>
          {items.map((item) => (
            <li key={item.route}>
              <a
                href={`/console/${item.route}`}
                aria-current={item.route === current ? 'page' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(item.route);
                }}
              >
                {t(item.label)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {current === 'knowledge' && <KnowledgePage identity={identity} />}
        {current === 'admin' && <AdminPage identity={identity} />}
        {current === 'overview' && <OverviewPage identity={identity} />}
        {current === 'inbox' && <InboxPage identity={identity} />}
        {!['knowledge', 'admin', 'overview', 'inbox'].includes(current) && <ErrorState message="unknown page" code="NOT_FOUND" />}
      </main>
    </div>
  );
}
