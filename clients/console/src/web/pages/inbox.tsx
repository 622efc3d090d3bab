import type { Identity } from '../auth';
import { t, useLang } from '../i18n';
import { Empty } from '../ui';

export function InboxPage(_props: { identity: Identity }) {
  useLang();
  return (
    <div class="page">
      <h1>{t('inbox.title')}</h1>
      <Empty>{t('inbox.pending')}</Empty>
    </div>
  );
}
