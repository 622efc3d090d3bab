import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ConsoleAddNoteDocument,
  ConsoleAnswerDetailsDocument,
  ConsoleClaimDocument,
  ConsoleConversationDocument,
  ConsoleConversationStreamDocument,
  ConsoleReleaseDocument,
  ConsoleResolveDocument,
  ConsoleReturnToBotDocument,
  ConsoleSendMessageDocument,
  ConsoleSetTypingDocument,
  type ConsoleAnswerDetailsQuery,
  type ConsoleConversationQuery,
} from '../../generated/operations';
import { clientFor, describeError, op, useLoad } from '../api';
import { isAdmin, type Identity } from '../auth';
import { formatPercent, formatTime, t, useLang } from '../i18n';
import type { HandoffEvent } from '../live-inbox';
import { Empty, Load, Notice } from '../ui';

const CONVERSATION = op(ConsoleConversationDocument);
const ANSWER = op(ConsoleAnswerDetailsDocument);
const STREAM = op(ConsoleConversationStreamDocument);
const CLAIM = op(ConsoleClaimDocument);
const RELEASE = op(ConsoleReleaseDocument);
const SEND = op(ConsoleSendMessageDocument);
const TYPING = op(ConsoleSetTypingDocument);
const NOTE = op(ConsoleAddNoteDocument);
const RESOLVE = op(ConsoleResolveDocument);
const RETURN = op(ConsoleReturnToBotDocument);

type Conversation = NonNullable<ConsoleConversationQuery['conversation']>;
type AnswerDetails = NonNullable<ConsoleAnswerDetailsQuery['answer']>;
/** A typing indicator switches itself off this long after the last keystroke's setTyping. */
const TYPING_REFRESH_MS = 2500;

export function ConversationView({
  identity,
  sessionId,
  lastEvent,
  onChanged,
}: {
  identity: Identity;
  sessionId: string;
  lastEvent: HandoffEvent | null;
  onChanged: () => void;
}) {
  useLang();
  const client = clientFor(identity);
  const [conversation, reload] = useLoad(
    () => client.request(CONVERSATION, { sessionId }).then((d) => d.conversation),
    [sessionId, identity.token],
  );
  const [streaming, setStreaming] = useState<{ answerId: string; question: string; text: string } | null>(null);
  const [customerTyping, setCustomerTyping] = useState(false);
  const [details, setDetails] = useState<Record<string, AnswerDetails>>({});
  const [notice, setNotice] = useState<{ text: string; tone: 'ok' | 'error' } | null>(null);

  // Handoff events of this conversation: reload it (transitions, messages, notes); typing is shown at once.
  useEffect(() => {
    if (!lastEvent || lastEvent.conversationId !== sessionId) return;
    if (lastEvent.kind === 'TYPING' && lastEvent.typing?.actor.kind === 'CUSTOMER') setCustomerTyping(lastEvent.typing.typing);
    else if (lastEvent.kind !== 'TYPING') reload();
    if (lastEvent.kind === 'CUSTOMER_MESSAGE') setCustomerTyping(false);
  }, [lastEvent]);

  // The bot's answers streaming live (and the catch-up: the transcript is reloaded when one completes).
  useEffect(() => {
    let stopped = false;
    let iterator: AsyncIterableIterator<unknown> | null = null;
    (async () => {
      while (!stopped) {
        try {
          const events = client.subscribe(STREAM, { sessionId });
          iterator = events;
          for await (const { answerStream: event } of events) {
            if (event.kind === 'QUEUED' && event.answer)
              setStreaming({ answerId: event.answerId, question: event.answer.question, text: '' });
            if (event.kind === 'TOKEN' && event.delta)
              setStreaming((s) =>
                s && s.answerId === event.answerId
                  ? { ...s, text: s.text + event.delta }
                  : { answerId: event.answerId, question: '', text: event.delta! },
              );
            if (event.kind === 'DONE' || event.kind === 'FALLBACK' || event.kind === 'ERROR') {
              setStreaming(null);
              reload();
            }
          }
        } catch (error) {
          if (['FORBIDDEN', 'NOT_FOUND', 'UNAUTHENTICATED'].includes(describeError(error).code)) return;
        }
        if (!stopped) {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          reload();
        }
      }
    })();
    return () => {
      stopped = true;
      void iterator?.return?.();
    };
  }, [sessionId, identity.token]);

  // Sources and confidence of the assistant's answers in the transcript.
  useEffect(() => {
    if (conversation.state !== 'ready' || !conversation.data) return;
    const missing = conversation.data.session.turns
      .filter((turn) => turn.answerId && !details[turn.answerId])
      .map((turn) => turn.answerId!);
    if (missing.length === 0) return;
    void Promise.all(
      missing.slice(-20).map((id) =>
        client
          .request(ANSWER, { id })
          .then((d) => d.answer)
          .catch(() => null),
      ),
    ).then((answers) =>
      setDetails((known) => ({
        ...known,
        ...Object.fromEntries(answers.filter((a): a is AnswerDetails => a !== null).map((a) => [a.id, a])),
      })),
    );
  }, [conversation]);

  const act = async (run: () => Promise<unknown>, done: string) => {
    setNotice(null);
    try {
      await run();
      setNotice({ text: done, tone: 'ok' });
      reload();
      onChanged();
    } catch (error) {
      const { message, code } = describeError(error);
      setNotice({ text: t('state.error', { message: `${message} (${code})` }), tone: 'error' });
    }
  };

  return (
    <Load value={conversation} retry={reload}>
      {(c) =>
        !c ? (
          <div class="card">
            <Empty>{t('conversation.unknown')}</Empty>
          </div>
        ) : (
          <div class="conversation">
            <header class="card conversation-head">
              <div>
                <h2>{t('conversation.title', { user: c.session.userId })}</h2>
                <p class="muted">
                  <span class={`pill state-${c.state.toLowerCase()}`} data-testid="conversation-state">
                    {t(`state.${c.state}`)}
                  </span>{' '}
                  {c.assignee ? t('inbox.with', { name: c.assignee.displayName }) : ''} {c.reason ? `· ${t(`reason.${c.reason}`)}` : ''}
                </p>
              </div>
              <Actions identity={identity} conversation={c} act={act} />
            </header>
            <Notice text={notice?.text ?? null} tone={notice?.tone} />
            <div class="conversation-body">
              <section class="card transcript" aria-label={t('conversation.transcript')}>
                <ol class="turns" aria-live="polite">
                  {c.session.turns.map((turn) => (
                    <li key={turn.seq} class={`turn turn-${turn.role.toLowerCase()}`}>
                      <span class="turn-who">
                        {turn.role === 'USER'
                          ? t('conversation.customer')
                          : turn.role === 'AGENT'
                            ? (turn.authorName ?? t('conversation.agent'))
                            : t('conversation.bot')}
                        <span class="muted"> · {formatTime(turn.at)}</span>
                      </span>
                      <span class="turn-text">{turn.text}</span>
                      {turn.role === 'ASSISTANT' && turn.answerId && details[turn.answerId] && (
                        <AnswerMeta answer={details[turn.answerId]!} />
                      )}
                    </li>
                  ))}
                  {streaming && (
                    <li class="turn turn-assistant streaming" data-testid="bot-streaming">
                      <span class="turn-who">{t('conversation.botTyping')}</span>
                      <span class="turn-text">{streaming.text || '…'}</span>
                    </li>
                  )}
                </ol>
                {(customerTyping || c.customerTyping) && (
                  <p class="typing" role="status">
                    {t('inbox.customerTyping')}
                  </p>
                )}
                <Composer identity={identity} conversation={c} act={act} />
              </section>
              <aside class="conversation-side">
                <Notes identity={identity} conversation={c} act={act} />
                <section class="card" aria-labelledby="audit-heading">
                  <h3 id="audit-heading">{t('conversation.audit')}</h3>
                  {c.audit.length === 0 ? (
                    <p class="muted">{t('conversation.auditEmpty')}</p>
                  ) : (
                    <ol class="audit">
                      {c.audit.map((entry) => (
                        <li key={entry.seq}>
                          <span>
                            {t(`state.${entry.from}`)} → {t(`state.${entry.to}`)}
                          </span>
                          <span class="muted">
                            {t(`reason.${entry.reason}`)} · {entry.actor.displayName ?? entry.actor.id ?? entry.actor.kind.toLowerCase()} ·{' '}
                            {formatTime(entry.at)}
                          </span>
                          {entry.comment && <span class="muted">“{entry.comment}”</span>}
                        </li>
                      ))}
                    </ol>
                  )}
                </section>
              </aside>
            </div>
          </div>
        )
      }
    </Load>
  );
}

function AnswerMeta({ answer }: { answer: AnswerDetails }) {
  return (
    <span class="answer-meta">
      {answer.confidence !== null && answer.confidence !== undefined && (
        <span class={answer.needsHuman ? 'pill warn' : 'pill ok'}>
          {t('try.confidence')} {formatPercent(answer.confidence)}
        </span>
      )}
      {answer.sources.length > 0 && (
        <span class="muted">
          {t('conversation.sources')}: {answer.sources.map((s) => s.title).join(', ')}
        </span>
      )}
    </span>
  );
}

type Act = (run: () => Promise<unknown>, done: string) => Promise<void>;

function Actions({ identity, conversation: c, act }: { identity: Identity; conversation: Conversation; act: Act }) {
  const client = clientFor(identity);
  const mine = c.assignee?.id === identity.user || isAdmin(identity);
  const sessionId = c.id;
  return (
    <div class="row wrap actions">
      {(c.state === 'WAITING_FOR_HUMAN' || c.state === 'BOT' || c.state === 'RESOLVED') && (
        <button type="button" onClick={() => void act(() => client.request(CLAIM, { sessionId }), t('conversation.claimed'))}>
          {c.state === 'WAITING_FOR_HUMAN' ? t('conversation.claim') : t('conversation.takeOver')}
        </button>
      )}
      {c.state === 'WITH_HUMAN' && mine && (
        <>
          <button
            type="button"
            class="secondary"
            onClick={() => void act(() => client.request(RETURN, { sessionId }), t('conversation.returned'))}
          >
            {t('conversation.returnToBot')}
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() => void act(() => client.request(RELEASE, { sessionId }), t('conversation.released'))}
          >
            {t('conversation.release')}
          </button>
        </>
      )}
      {(c.state === 'WITH_HUMAN' || c.state === 'WAITING_FOR_HUMAN') && mine && (
        <button
          type="button"
          class="secondary"
          onClick={() => void act(() => client.request(RESOLVE, { sessionId }), t('conversation.resolved'))}
        >
          {t('conversation.resolve')}
        </button>
      )}
    </div>
  );
}

function Composer({ identity, conversation: c, act }: { identity: Identity; conversation: Conversation; act: Act }) {
  const client = clientFor(identity);
  const [text, setText] = useState('');
  const lastTyping = useRef(0);
  const canReply = c.state === 'WITH_HUMAN' && (c.assignee?.id === identity.user || isAdmin(identity));
  const typing = (on: boolean) => {
    if (on && Date.now() - lastTyping.current < TYPING_REFRESH_MS) return;
    lastTyping.current = on ? Date.now() : 0;
    client.request(TYPING, { sessionId: c.id, typing: on }).catch(() => undefined);
  };
  if (!canReply) return <p class="muted composer-hint">{t('conversation.claimToReply')}</p>;
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        const message = text.trim();
        if (!message) return;
        setText('');
        typing(false);
        void act(
          () => client.request(SEND, { sessionId: c.id, text: message, clientMessageId: crypto.randomUUID?.() ?? String(Date.now()) }),
          t('conversation.sent'),
        );
      }}
    >
      <label class="grow">
        <span class="visually-hidden">{t('conversation.reply')}</span>
        <textarea
          name="reply"
          rows={3}
          value={text}
          placeholder={t('conversation.replyPlaceholder')}
          onInput={(e) => {
            setText((e.target as HTMLTextAreaElement).value);
            typing(true);
          }}
          onBlur={() => typing(false)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              (e.currentTarget as HTMLTextAreaElement).form?.requestSubmit();
            }
          }}
        />
      </label>
      <button type="submit">{t('conversation.send')}</button>
    </form>
  );
}

function Notes({ identity, conversation: c, act }: { identity: Identity; conversation: Conversation; act: Act }) {
  const [text, setText] = useState('');
  return (
    <section class="card" aria-labelledby="notes-heading">
      <h3 id="notes-heading">{t('conversation.notes')}</h3>
      {c.notes.length === 0 ? (
        <p class="muted">{t('conversation.notesEmpty')}</p>
      ) : (
        <ul class="notes">
          {c.notes.map((note) => (
            <li key={note.id}>
              <span>{note.text}</span>
              <span class="muted">
                {note.author.displayName ?? note.author.id} · {formatTime(note.at)}
              </span>
            </li>
          ))}
        </ul>
      )}
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          if (!text.trim()) return;
          const note = text.trim();
          setText('');
          void act(() => clientFor(identity).request(NOTE, { sessionId: c.id, text: note }), t('conversation.noteAdded'));
        }}
      >
        <label>
          {t('conversation.addNote')}
          <textarea name="note" rows={2} maxLength={4000} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        </label>
        <button type="submit" class="secondary">
          {t('conversation.saveNote')}
        </button>
      </form>
    </section>
  );
}
