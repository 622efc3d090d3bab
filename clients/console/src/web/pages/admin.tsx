import { useState } from 'preact/hooks';
import {
  ConsoleAdminDocument,
  ConsoleCreateApiKeyDocument,
  ConsoleRevokeApiKeyDocument,
  ConsoleUpdateTenantDocument,
  type ConsoleAdminQuery,
  type Role,
} from '../../generated/operations';
import { clientFor, describeError, op, useLoad } from '../api';
import type { Identity } from '../auth';
import { formatTime, t, useLang } from '../i18n';
import { Load, Notice } from '../ui';
import { HandoffSettings, WidgetSettings } from './admin-settings';

const ADMIN = op(ConsoleAdminDocument);
const CREATE_KEY = op(ConsoleCreateApiKeyDocument);
const REVOKE_KEY = op(ConsoleRevokeApiKeyDocument);
const UPDATE_TENANT = op(ConsoleUpdateTenantDocument);

export function AdminPage({ identity }: { identity: Identity }) {
  useLang();
  const client = clientFor(identity);
  const [admin, reload] = useLoad(() => client.request(ADMIN), [identity.token]);
  return (
    <div class="page">
      <h1>{t('admin.title')}</h1>
      <Load value={admin} retry={reload}>
        {(data) => (
          <div class="admin-grid">
            <ApiKeys identity={identity} keys={data.tenant.apiKeys} onChange={reload} />
            <Engine data={data} identity={identity} onChange={reload} />
            <WidgetSettings identity={identity} />
            <HandoffSettings identity={identity} />
          </div>
        )}
      </Load>
    </div>
  );
}

type ApiKey = ConsoleAdminQuery['tenant']['apiKeys'][number];

function ApiKeys({ identity, keys, onChange }: { identity: Identity; keys: ApiKey[]; onChange: () => void }) {
  const client = clientFor(identity);
  const [name, setName] = useState('');
  const [roles, setRoles] = useState<Role[]>(['CUSTOMER']);
  const [persistedOnly, setPersistedOnly] = useState(true);
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const toggle = (role: Role) => setRoles(roles.includes(role) ? roles.filter((r) => r !== role) : [...roles, role]);
  return (
    <section class="card wide" aria-labelledby="keys-heading">
      <h2 id="keys-heading">{t('admin.keys')}</h2>
      <Notice text={error} tone="error" />
      {secret && (
        <div class="secret" role="alert">
          <p>{t('admin.keySecret')}</p>
          <code data-testid="api-key-secret">{secret}</code>
          <button type="button" onClick={() => setSecret(null)}>
            {t('admin.keyDismiss')}
          </button>
        </div>
      )}
      <form
        class="toolbar wrap"
        onSubmit={(e) => {
          e.preventDefault();
          setError(null);
          client.request(CREATE_KEY, { name, roles, persistedOnly }).then(
            (d) => {
              setSecret(d.createApiKey.secret);
              setName('');
              onChange();
            },
            (err: unknown) => setError(t('state.error', { message: describeError(err).message })),
          );
        }}
      >
        <label class="grow">
          {t('admin.keyName')}
          <input name="keyName" required maxLength={100} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <fieldset>
          <legend>{t('admin.keyRoles')}</legend>
          {(['CUSTOMER', 'AGENT', 'ADMIN'] as const).map((role) => (
            <label class="inline" key={role}>
              <input type="checkbox" checked={roles.includes(role)} onChange={() => toggle(role)} /> {role.toLowerCase()}
            </label>
          ))}
        </fieldset>
        <label class="inline">
          <input type="checkbox" checked={persistedOnly} onChange={() => setPersistedOnly(!persistedOnly)} /> {t('admin.keyPersisted')}
        </label>
        <button type="submit" disabled={roles.length === 0}>
          {t('admin.keyCreate')}
        </button>
      </form>
      {keys.length === 0 ? (
        <p class="muted">{t('admin.keysEmpty')}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('admin.keyName')}</th>
                <th scope="col">{t('admin.keyPrefix')}</th>
                <th scope="col">{t('admin.keyRoles')}</th>
                <th scope="col">{t('admin.keyCreated')}</th>
                <th scope="col">{t('admin.keyStatus')}</th>
                <th scope="col">{t('admin.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.id} class={key.revokedAt ? 'revoked' : ''}>
                  <td>{key.name}</td>
                  <td>
                    <code>{key.prefix}…</code>
                  </td>
                  <td>{key.roles.map((r) => r.toLowerCase()).join(', ')}</td>
                  <td>{formatTime(key.createdAt)}</td>
                  <td>{key.revokedAt ? t('admin.keyRevoked', { at: formatTime(key.revokedAt) }) : t('admin.keyActive')}</td>
                  <td>
                    {!key.revokedAt && (
                      <button
                        type="button"
                        class="danger"
                        aria-label={`${t('admin.keyRevoke')}: ${key.name}`}
                        onClick={() => {
                          if (!confirm(t('admin.keyConfirmRevoke', { name: key.name }))) return;
                          client.request(REVOKE_KEY, { id: key.id }).then(onChange, (err: unknown) => setError(describeError(err).message));
                        }}
                      >
                        {t('admin.keyRevoke')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Engine({ data, identity, onChange }: { data: ConsoleAdminQuery; identity: Identity; onChange: () => void }) {
  const [threshold, setThreshold] = useState(String(data.tenant.answerConfidenceThreshold));
  const [notice, setNotice] = useState<string | null>(null);
  const status = data.inferenceStatus;
  return (
    <section class="card" aria-labelledby="engine-heading">
      <h2 id="engine-heading">{t('admin.engine')}</h2>
      <dl class="facts">
        <dt>{t('admin.tenantName')}</dt>
        <dd>{data.tenant.name}</dd>
        <dt>{t('admin.engineName')}</dt>
        <dd data-testid="engine-name">{status.engine}</dd>
        <dt>{t('admin.queueLag')}</dt>
        <dd>{status.queueLag}</dd>
        <dt>{t('admin.breaker')}</dt>
        <dd>
          <span class={`pill breaker-${status.breaker.toLowerCase()}`}>{status.breaker}</span>
        </dd>
      </dl>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          clientFor(identity)
            .request(UPDATE_TENANT, { answerConfidenceThreshold: Number(threshold) })
            .then(
              () => (setNotice(t('admin.thresholdSaved')), onChange()),
              (err: unknown) => setNotice(t('state.error', { message: describeError(err).message })),
            );
        }}
      >
        <label>
          {t('admin.threshold')}
          <input
            type="number"
            name="threshold"
            min={0}
            max={1}
            step={0.01}
            value={threshold}
            onInput={(e) => setThreshold((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">{t('admin.thresholdSave')}</button>
        <Notice text={notice} />
      </form>
    </section>
  );
}
