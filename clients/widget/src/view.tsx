import { useEffect, useRef, useState } from 'preact/hooks';
import type { WidgetController, WidgetState } from './controller';
import { MAX_QUESTION_CHARS } from './controller';
import { isFinal, type Message } from './conversation';
import type { Messages } from './i18n';

const Thumb = ({ down }: { down?: boolean }) => (
  <svg
    viewBox="0 0 24 24"
    width="14"
    height="14"
    aria-hidden="true"
    focusable="false"
    style={down ? { transform: 'rotate(180deg)' } : undefined}
  >
    <path
      fill="currentColor"
      d="M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z"
    />
  </svg>
);

const ChatIcon = () => (
  <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
    <path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z" />
  </svg>
);

function useWidgetState(controller: WidgetController): WidgetState {
  const [state, setState] = useState(controller.state);
  useEffect(() => controller.subscribe(setState), [controller]);
  return state;
}

function errorText(code: string | null, t: Messages): string | null {
  if (!code) return null;
  if (code === 'ORIGIN_NOT_ALLOWED' || code === 'UNAUTHENTICATED') return t.originRefused;
  if (code === 'RATE_LIMITED') return t.rateLimited;
  return t.offline;
}

function Sources({ message, t }: { message: Message; t: Messages }) {
  const [openId, setOpenId] = useState<string | null>(null);
  if (message.sources.length === 0) return null;
  return (
    <div class="sources">
      <h3>{t.sources}</h3>
      <ul>
        {message.sources.map((source) => (
          <li key={source.id}>
            <a
              href={`#beedesk-article-${source.id}`}
              aria-expanded={openId === source.id}
              onClick={(event) => {
                event.preventDefault();
                setOpenId(openId === source.id ? null : source.id);
              }}
            >
              {source.title}
            </a>
            {openId === source.id && <div class="article">{source.body}</div>}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Bubble({ message, t, controller }: { message: Message; t: Messages; controller: WidgetController }) {
  const waiting = message.role === 'assistant' && !isFinal(message) && message.text === '';
  const failedText = message.status === 'failed' && !message.text ? t.failed : null;
  return (
    <div class={`msg ${message.role}`} data-answer-id={message.role === 'assistant' ? message.id : undefined} data-status={message.status}>
      <span class="sr">{message.role === 'user' ? t.youSaid : t.assistant}: </span>
      {message.role === 'agent' && <span class="who">{message.author ?? t.agent}</span>}
      {waiting ? (
        <span class="thinking">
          {message.queuePosition ? t.queue(message.queuePosition) : <span class="dots">{t.thinking.replace(/[.…]+$/, '')}</span>}
        </span>
      ) : (
        <span class="text">{failedText ?? message.text}</span>
      )}
      {message.role === 'assistant' && isFinal(message) && (
        <>
          <Sources message={message} t={t} />
          {message.needsHuman && <p class="note">{t.needsHuman}</p>}
          {message.status !== 'failed' && (
            <div class="fb" role="group" aria-label={`${t.helpful} / ${t.notHelpful}`}>
              <button type="button" aria-pressed={message.feedback === true} onClick={() => void controller.rate(message.id, true)}>
                <Thumb /> <span>{t.helpful}</span>
              </button>
              <button type="button" aria-pressed={message.feedback === false} onClick={() => void controller.rate(message.id, false)}>
                <Thumb down /> <span>{t.notHelpful}</span>
              </button>
            </div>
          )}
          {message.feedback !== null && <p class="note">{t.thanks}</p>}
        </>
      )}
    </div>
  );
}

/** The launcher and the chat panel (a non-modal dialog), rendered inside the widget's shadow root. */
export function WidgetView({
  controller,
  t,
  host,
  applyTheme,
}: {
  controller: WidgetController;
  t: Messages;
  host: HTMLElement;
  applyTheme: (color: string) => void;
}) {
  const state = useWidgetState(controller);
  const [draft, setDraft] = useState('');
  const launcher = useRef<HTMLButtonElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const log = useRef<HTMLDivElement>(null);
  const wasOpen = useRef(state.open);

  // Tenant settings: accent colour and side.
  useEffect(() => {
    if (state.settings) {
      applyTheme(state.settings.themeColor);
      host.dataset['position'] = state.settings.position === 'BOTTOM_LEFT' ? 'left' : 'right';
    }
  }, [state.settings, host, applyTheme]);

  useEffect(() => {
    if (state.open) host.setAttribute('data-open', '');
    else host.removeAttribute('data-open');
    // Focus follows the panel: into the input when it opens, back to the launcher when it closes.
    if (state.open && !wasOpen.current) input.current?.focus();
    if (!state.open && wasOpen.current) launcher.current?.focus();
    wasOpen.current = state.open;
  }, [state.open, host]);

  useEffect(() => {
    const el = log.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [state.messages, state.open]);

  // Small screens: the panel fills the visual viewport, so it stays above the on-screen keyboard.
  useEffect(() => {
    const viewport = window.visualViewport;
    if (!viewport) return;
    const fit = () => host.style.setProperty('--bd-vvh', `${viewport.height}px`);
    fit();
    viewport.addEventListener('resize', fit);
    return () => viewport.removeEventListener('resize', fit);
  }, [host]);

  const submit = async (event?: Event) => {
    event?.preventDefault();
    const text = draft.trim();
    if (!text || text.length > MAX_QUESTION_CHARS) return;
    setDraft('');
    if (!(await controller.ask(text))) setDraft(text);
  };

  const greeting = state.settings?.greeting || t.greeting;
  const handoff = state.handoff;
  const waiting = handoff?.state === 'WAITING_FOR_HUMAN';
  const withHuman = handoff?.state === 'WITH_HUMAN';
  const canAskForPerson =
    state.phase === 'ready' && !waiting && !withHuman && state.messages.some((m) => m.role === 'assistant' && isFinal(m));
  const problem = errorText(state.errorCode, t);
  const connection = state.connection === 'reconnecting' ? t.reconnecting : null;
  return (
    <div
      onKeyDown={(event) => {
        if (event.key === 'Escape' && state.open) {
          event.stopPropagation();
          controller.setOpen(false);
        }
      }}
    >
      {state.open && (
        <div class="panel" id="beedesk-panel" role="dialog" aria-modal="false" aria-labelledby="beedesk-title">
          <div class="head">
            <div>
              <h2 id="beedesk-title">{t.title}</h2>
              <p>{withHuman && handoff?.agentName ? handoff.agentName : t.subtitle}</p>
            </div>
            <button type="button" class="x" aria-label={t.close} onClick={() => controller.setOpen(false)}>
              ×
            </button>
          </div>
          {(problem || connection) && (
            <div class="status" role="status">
              {problem ?? connection}
            </div>
          )}
          <div class="log" ref={log} role="log" aria-label={t.title} tabIndex={0}>
            <div class="msg assistant">{greeting}</div>
            {state.phase === 'loading' && state.messages.length === 0 && <div class="msg system">{t.loading}</div>}
            {state.messages.map((message) => (
              <Bubble key={message.id} message={message} t={t} controller={controller} />
            ))}
            {waiting && (
              <div class="msg system" role="status">
                {t.waitingForAgent} {handoff?.waitingPosition != null ? t.waitingPosition(handoff.waitingPosition + 1) : ''}
              </div>
            )}
            {withHuman && handoff?.agentTyping && (
              <div class="msg system typing" role="status">
                {t.agentTyping(handoff.agentName ?? t.agent)}
              </div>
            )}
            {canAskForPerson && (
              <button type="button" class="human" onClick={() => void controller.requestHuman()}>
                {t.talkToPerson}
              </button>
            )}
          </div>
          <form onSubmit={(event) => void submit(event)}>
            <label class="sr" for="beedesk-input">
              {t.inputLabel}
            </label>
            <textarea
              id="beedesk-input"
              ref={input}
              rows={1}
              value={draft}
              maxLength={MAX_QUESTION_CHARS}
              placeholder={t.placeholder}
              onInput={(event) => {
                setDraft((event.target as HTMLTextAreaElement).value);
                controller.typing();
              }}
              onKeyDown={(event) => {
                if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) void submit(event);
              }}
            />
            <button type="submit" class="send" disabled={!draft.trim()}>
              {t.send}
            </button>
          </form>
        </div>
      )}
      <button
        type="button"
        class="launcher"
        ref={launcher}
        aria-expanded={state.open}
        aria-controls="beedesk-panel"
        aria-label={state.open ? t.launcherClose : t.launcherOpen}
        onClick={() => controller.setOpen(!state.open)}
      >
        <ChatIcon />
        {state.unread > 0 && !state.open && (
          <span class="badge" aria-label={t.unread(state.unread)}>
            {state.unread}
          </span>
        )}
      </button>
      <div class="sr" aria-live="polite" aria-atomic="true">
        {state.announcement}
      </div>
    </div>
  );
}
