import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ConsoleMyAgentDocument } from '../../generated/operations';
import { clientFor, op, useLoad } from '../api';
import { setTitleBadge } from '../app';
import type { Identity } from '../auth';
import { t, useLang } from '../i18n';
import { chime, LiveInbox, type Conversation, type HandoffEvent, type InboxList, type InboxSnapshot } from '../live-inbox';
import { Empty, ErrorState, Loading } from '../ui';
import { ConversationView } from './conversation';

const MY_AGENT = op(ConsoleMyAgentDocument);
const LISTS: InboxList[] = ['waiting', 'mine', 'open'];

export function InboxPage({ identity }: { identity: Identity }) {
  useLang();
  const client = clientFor(identity);
  const [snapshot, setSnapshot] = useState<InboxSnapshot | null>(null);
  const [list, setList] = useState<InboxList>('waiting');
  const [selected, setSelected] = useState<string | null>(() => new URLSearchParams(location.search).get('c'));
  const [available, setAvailable] = useState(true);
  const [unseen, setUnseen] = useState(0);
  const [lastEvent, setLastEvent] = useState<HandoffEvent | null>(null);
  const [me] = useLoad(() => client.request(MY_AGENT).then((d) => d.myAgent), [identity.token]);
  const live = useRef<LiveInbox | null>(null);
  const selectedRef = useRef(selected);
  selectedRef.current = selected;

  useEffect(() => {
    const inbox = new LiveInbox(client, {
      onSnapshot: setSnapshot,
      onEvent: (event) => {
        setLastEvent(event);
        if (isNewForMe(event, identity.user)) {
          if (selectedRef.current !== event.conversationId || document.hidden) {
            setUnseen((n) => n + 1);
            chime();
            notify(event);
          }
        }
      },
    });
    live.current = inbox;
    inbox.start();
    return () => inbox.stop();
  }, [identity.token]);

  useEffect(() => setTitleBadge(unseen, t('nav.inbox')), [unseen]);
  useEffect(() => {
    const seen = () => !document.hidden && setUnseen(0);
    document.addEventListener('visibilitychange', seen);
    return () => {
      document.removeEventListener('visibilitychange', seen);
      setTitleBadge(0, t('nav.inbox'));
    };
  }, []);

  const open = (id: string) => {
    setSelected(id);
    setUnseen(0);
    history.replaceState(null, '', `/console/inbox?c=${encodeURIComponent(id)}`);
  };
  const items = snapshot?.lists[list].items ?? [];
  const connection = snapshot?.connection ?? 'connecting';

  return (
    <div class="page inbox-page">
      <div class="page-head">
        <h1>{t('inbox.title')}</h1>
        <span class={`pill ${connection === 'live' ? 'ok' : 'warn'}`} role="status" data-testid="inbox-connection">
          {t(`inbox.connection.${connection}`)}
        </span>
        <label class="inline switch">
          <input
            type="checkbox"
            role="switch"
            checked={available}
            onChange={() => {
              setAvailable(!available);
              live.current?.setAvailable(!available);
            }}
          />
          {t('inbox.available')}
        </label>
        <button
          type="button"
          class="secondary"
          onClick={() => void Notification.requestPermission?.()}
          hidden={typeof Notification === 'undefined' || Notification.permission !== 'default'}
        >
          {t('inbox.enableNotifications')}
        </button>
      </div>
      {me.state === 'ready' && (
        <p class="muted">{t('inbox.me', { name: me.data.displayName, active: me.data.activeConversations, capacity: me.data.capacity })}</p>
      )}
      {snapshot?.error && (
        <ErrorState message={snapshot.error.message} code={snapshot.error.code} retry={() => void live.current?.reload()} />
      )}
      <div class="inbox-layout">
        <section class="card inbox-lists" aria-label={t('inbox.lists')}>
          <div role="tablist" aria-label={t('inbox.lists')} class="tabs">
            {LISTS.map((name) => (
              <button
                type="button"
                role="tab"
                key={name}
                id={`tab-${name}`}
                aria-selected={list === name}
                aria-controls="inbox-list"
                class={list === name ? 'tab active' : 'tab'}
                onClick={() => setList(name)}
              >
                {t(`inbox.list.${name}`)} <span class="count">{snapshot?.lists[name].total ?? '…'}</span>
              </button>
            ))}
          </div>
          <div id="inbox-list" role="tabpanel" aria-labelledby={`tab-${list}`}>
            {!snapshot ? (
              <Loading />
            ) : items.length === 0 ? (
              <Empty>{t(`inbox.empty.${list}`)}</Empty>
            ) : (
              <ul class="conversations">
                {items.map((c) => (
                  <ConversationItem key={c.id} conversation={c} selected={c.id === selected} onOpen={() => open(c.id)} />
                ))}
              </ul>
            )}
          </div>
        </section>
        <section class="conversation-pane" aria-label={t('inbox.conversation')}>
          {selected ? (
            <ConversationView
              key={selected}
              identity={identity}
              sessionId={selected}
              lastEvent={lastEvent}
              onChanged={() => void live.current?.reload()}
            />
          ) : (
            <div class="card">
              <Empty>{t('inbox.pick')}</Empty>
            </div>
          )}
        </section>
      </div>
    </div>
  );
}

function ConversationItem({ conversation: c, selected, onOpen }: { conversation: Conversation; selected: boolean; onOpen: () => void }) {
  const last = c.session.turns[c.session.turns.length - 1];
  const since = c.waitingSince ?? c.since;
  return (
    <li>
      <button
        type="button"
        class={`conversation-item ${selected ? 'selected' : ''}`}
        aria-current={selected ? 'true' : undefined}
        onClick={onOpen}
      >
        <span class="row-between">
          <strong>{c.session.userId}</strong>
          <span class={`pill state-${c.state.toLowerCase()}`}>{t(`state.${c.state}`)}</span>
        </span>
        <span class="snippet">{last ? last.text : '—'}</span>
        <span class="muted">
          {c.state === 'WAITING_FOR_HUMAN' && since
            ? t('inbox.waiting', { time: ago(since) })
            : c.assignee
              ? t('inbox.with', { name: c.assignee.displayName })
              : ''}
          {c.customerTyping ? ` · ${t('inbox.customerTyping')}` : ''}
        </span>
      </button>
    </li>
  );
}

/** A conversation that just became the caller's (assigned or handed over), or a new one waiting for anyone. */
function isNewForMe(event: HandoffEvent, me: string): boolean {
  const transition = event.transition;
  if (event.kind !== 'STATE_CHANGED' || !transition) return false;
  if (transition.to === 'WITH_HUMAN') return transition.assignee?.id === me && transition.actor.id !== me;
  return transition.to === 'WAITING_FOR_HUMAN';
}

function notify(event: HandoffEvent): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  const title = event.transition?.to === 'WITH_HUMAN' ? t('inbox.notifyAssigned') : t('inbox.notifyWaiting');
  new Notification(title, { body: event.conversationId ?? '', tag: event.conversationId ?? undefined });
}

export function ago(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

export const useNow = (ms: number): number => {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return useMemo(() => now, [now]);
};
