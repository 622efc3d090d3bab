import { useState } from 'preact/hooks';
import {
  ConsoleHandoffSettingsDocument,
  ConsoleRotateWidgetKeyDocument,
  ConsoleUpdateAgentDocument,
  ConsoleUpdateHandoffRulesDocument,
  ConsoleUpdateWidgetSettingsDocument,
  ConsoleWidgetSettingsDocument,
  type ConsoleHandoffSettingsQuery,
  type ConsoleWidgetSettingsQuery,
} from '../../generated/operations';
import { clientFor, describeError, op, useLoad } from '../api';
import type { Identity } from '../auth';
import { t } from '../i18n';
import { Load, Notice } from '../ui';

const WIDGET = op(ConsoleWidgetSettingsDocument);
const UPDATE_WIDGET = op(ConsoleUpdateWidgetSettingsDocument);
const ROTATE_KEY = op(ConsoleRotateWidgetKeyDocument);
const HANDOFF = op(ConsoleHandoffSettingsDocument);
const UPDATE_RULES = op(ConsoleUpdateHandoffRulesDocument);
const UPDATE_AGENT = op(ConsoleUpdateAgentDocument);

type Widget = ConsoleWidgetSettingsQuery['tenant']['widget'];

export function WidgetSettings({ identity }: { identity: Identity }) {
  const client = clientFor(identity);
  const [widget, reload] = useLoad(() => client.request(WIDGET).then((d) => d.tenant.widget), [identity.token]);
  return (
    <section class="card" aria-labelledby="widget-heading">
      <h2 id="widget-heading">{t('admin.widget')}</h2>
      <Load value={widget} retry={reload}>
        {(w) => <WidgetForm identity={identity} widget={w} onSaved={reload} />}
      </Load>
    </section>
  );
}

function WidgetForm({ identity, widget, onSaved }: { identity: Identity; widget: Widget; onSaved: () => void }) {
  const client = clientFor(identity);
  const [origins, setOrigins] = useState(widget.allowedOrigins.join('\n'));
  const [themeColor, setThemeColor] = useState(widget.themeColor);
  const [greeting, setGreeting] = useState(widget.greeting);
  const [position, setPosition] = useState(widget.position);
  const [notice, setNotice] = useState<{ text: string; tone: 'ok' | 'error' } | null>(null);
  const fail = (error: unknown) => setNotice({ text: t('state.error', { message: describeError(error).message }), tone: 'error' });
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        const allowedOrigins = origins
          .split('\n')
          .map((o) => o.trim())
          .filter(Boolean);
        client.request(UPDATE_WIDGET, { input: { allowedOrigins, themeColor, greeting, position } }).then(() => {
          setNotice({ text: t('admin.widgetSaved'), tone: 'ok' });
          onSaved();
        }, fail);
      }}
    >
      <p>
        {t('admin.widgetKey')}: <code data-testid="widget-key">{widget.key}</code>
      </p>
      <label>
        {t('admin.widgetSnippet')}
        <textarea
          readOnly
          rows={2}
          value={`<script src="${location.origin}/widget/widget.js" data-widget-key="${widget.key}" async></script>`}
        />
      </label>
      <label>
        {t('admin.widgetOrigins')}
        <textarea name="origins" rows={3} value={origins} onInput={(e) => setOrigins((e.target as HTMLTextAreaElement).value)} />
      </label>
      <div class="row">
        <label>
          {t('admin.widgetTheme')}
          <input type="color" name="themeColor" value={themeColor} onInput={(e) => setThemeColor((e.target as HTMLInputElement).value)} />
        </label>
        <label class="grow">
          {t('admin.widgetPosition')}
          <select value={position} onChange={(e) => setPosition((e.target as HTMLSelectElement).value as Widget['position'])}>
            <option value="BOTTOM_RIGHT">↘ BOTTOM_RIGHT</option>
            <option value="BOTTOM_LEFT">↙ BOTTOM_LEFT</option>
          </select>
        </label>
      </div>
      <label>
        {t('admin.widgetGreeting')}
        <input name="greeting" maxLength={500} value={greeting} onInput={(e) => setGreeting((e.target as HTMLInputElement).value)} />
      </label>
      <div class="row">
        <button type="submit">{t('admin.widgetSave')}</button>
        <button
          type="button"
          class="danger"
          onClick={() =>
            client.request(ROTATE_KEY).then(() => {
              setNotice({ text: t('admin.widgetSaved'), tone: 'ok' });
              onSaved();
            }, fail)
          }
        >
          {t('admin.widgetRotate')}
        </button>
      </div>
      <Notice text={notice?.text ?? null} tone={notice?.tone} />
    </form>
  );
}

type Settings = ConsoleHandoffSettingsQuery;

export function HandoffSettings({ identity }: { identity: Identity }) {
  const client = clientFor(identity);
  const [settings, reload] = useLoad(() => client.request(HANDOFF), [identity.token]);
  return (
    <section class="card" aria-labelledby="handoff-heading">
      <h2 id="handoff-heading">{t('admin.handoff')}</h2>
      <Load value={settings} retry={reload}>
        {(s) => <HandoffForm identity={identity} settings={s} onSaved={reload} />}
      </Load>
    </section>
  );
}

function HandoffForm({ identity, settings, onSaved }: { identity: Identity; settings: Settings; onSaved: () => void }) {
  const client = clientFor(identity);
  const rules = settings.tenant.handoffRules;
  const [value, setValue] = useState({
    enabled: rules.enabled,
    unsureConsecutive: rules.unsureConsecutive,
    onOutOfScope: rules.onOutOfScope,
    onEngineFailure: rules.onEngineFailure,
    keywords: rules.keywords.join(', '),
    whenUnavailable: rules.whenUnavailable,
    defaultAgentCapacity: rules.defaultAgentCapacity,
    autoAssign: rules.autoAssign,
  });
  const [capacities, setCapacities] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<{ text: string; tone: 'ok' | 'error' } | null>(null);
  const fail = (error: unknown) => setNotice({ text: t('state.error', { message: describeError(error).message }), tone: 'error' });
  const check = (name: 'enabled' | 'onOutOfScope' | 'onEngineFailure' | 'autoAssign', label: string) => (
    <label class="inline">
      <input type="checkbox" checked={value[name]} onChange={() => setValue({ ...value, [name]: !value[name] })} /> {label}
    </label>
  );
  return (
    <>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          const keywords = value.keywords
            .split(',')
            .map((k) => k.trim())
            .filter(Boolean);
          client.request(UPDATE_RULES, { input: { ...value, keywords } }).then(() => {
            setNotice({ text: t('admin.rulesSaved'), tone: 'ok' });
            onSaved();
          }, fail);
        }}
      >
        <div class="checks">
          {check('enabled', t('admin.rulesEnabled'))}
          {check('onOutOfScope', t('admin.rulesOutOfScope'))}
          {check('onEngineFailure', t('admin.rulesFailure'))}
          {check('autoAssign', t('admin.rulesAutoAssign'))}
        </div>
        <div class="row">
          <label class="grow">
            {t('admin.rulesUnsure')}
            <input
              type="number"
              min={1}
              max={20}
              value={value.unsureConsecutive}
              onInput={(e) => setValue({ ...value, unsureConsecutive: Number((e.target as HTMLInputElement).value) })}
            />
          </label>
          <label class="grow">
            {t('admin.rulesCapacity')}
            <input
              type="number"
              min={1}
              max={100}
              value={value.defaultAgentCapacity}
              onInput={(e) => setValue({ ...value, defaultAgentCapacity: Number((e.target as HTMLInputElement).value) })}
            />
          </label>
        </div>
        <label>
          {t('admin.rulesKeywords')}
          <input value={value.keywords} onInput={(e) => setValue({ ...value, keywords: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          {t('admin.rulesWhenUnavailable')}
          <select
            value={value.whenUnavailable}
            onChange={(e) => setValue({ ...value, whenUnavailable: (e.target as HTMLSelectElement).value as typeof value.whenUnavailable })}
          >
            <option value="WAIT">{t('admin.rulesWait')}</option>
            <option value="RETURN_TO_BOT">{t('admin.rulesReturn')}</option>
          </select>
        </label>
        <button type="submit">{t('admin.rulesSave')}</button>
        <Notice text={notice?.text ?? null} tone={notice?.tone} />
      </form>
      <h3>{t('admin.agents')}</h3>
      {settings.agents.length === 0 ? (
        <p class="muted">{t('admin.agentsEmpty')}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('admin.keyName')}</th>
                <th scope="col">{t('admin.agentPresence')}</th>
                <th scope="col">{t('admin.agentActive')}</th>
                <th scope="col">{t('admin.agentCapacity')}</th>
              </tr>
            </thead>
            <tbody>
              {settings.agents.map((agent) => (
                <tr key={agent.id}>
                  <td>{agent.displayName}</td>
                  <td>{agent.presence.toLowerCase()}</td>
                  <td>{agent.activeConversations}</td>
                  <td>
                    <form
                      class="row"
                      onSubmit={(e) => {
                        e.preventDefault();
                        client
                          .request(UPDATE_AGENT, { agentId: agent.id, capacity: Number(capacities[agent.id] ?? agent.capacity) })
                          .then(onSaved, fail);
                      }}
                    >
                      <label>
                        <span class="visually-hidden">{`${t('admin.agentCapacity')}: ${agent.displayName}`}</span>
                        <input
                          type="number"
                          min={0}
                          max={100}
                          value={capacities[agent.id] ?? String(agent.capacity)}
                          onInput={(e) => setCapacities({ ...capacities, [agent.id]: (e.target as HTMLInputElement).value })}
                        />
                      </label>
                      <button type="submit" class="secondary">
                        {t('admin.agentSave')}
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
