import type { ComponentChildren } from 'preact';
import type { Loadable } from './api';
import { t } from './i18n';

export function Loading({ label }: { label?: string }) {
  return (
    <div class="state state-loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label ?? t('state.loading')}
    </div>
  );
}

export function ErrorState({ message, code, retry }: { message: string; code: string; retry?: () => void }) {
  return (
    <div class="state state-error" role="alert">
      <p>{code === 'FORBIDDEN' ? t('state.forbidden') : t('state.error', { message })}</p>
      <p class="code">{code}</p>
      {retry && (
        <button type="button" onClick={retry}>
          {t('state.retry')}
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return (
    <div class="state state-empty">
      <span class="empty-mark" aria-hidden="true">
        ○
      </span>
      <p>{children}</p>
    </div>
  );
}

/** Renders a Loadable: its loading and error states, or `children(data)`. */
export function Load<T>({ value, retry, children }: { value: Loadable<T>; retry?: () => void; children: (data: T) => ComponentChildren }) {
  if (value.state === 'loading') return <Loading />;
  if (value.state === 'error') return <ErrorState message={value.message} code={value.code} retry={retry} />;
  return <>{children(value.data)}</>;
}

/** A polite live region for confirmations ("Article saved."). */
export function Notice({ text, tone = 'ok' }: { text: string | null; tone?: 'ok' | 'error' }) {
  return (
    <p class={`notice notice-${tone}`} role={tone === 'error' ? 'alert' : 'status'} aria-live="polite">
      {text ?? ''}
    </p>
  );
}
