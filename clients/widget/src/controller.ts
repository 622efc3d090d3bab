import { WidgetError, type WidgetApi, type WidgetSettings } from './api';
import {
  applyEvent,
  applySnapshot,
  assistantMessage,
  hasGap,
  isFinal,
  isHandoffEvent,
  textMessage,
  type AnswerEvent,
  type ConversationState,
  type ConversationUpdate,
  type Message,
  type StoredAnswer,
} from './conversation';
import { completeSentences } from './i18n';
import { subscribe, type ConnectionState, type TransportKind } from './transport';

/** A session is resumed by the platform within 30 minutes of its last activity; so is the widget's copy. */
export const RESUME_WINDOW_MS = 30 * 60 * 1000;
export const MAX_QUESTION_CHARS = 2000;
/** How many of the history's latest answers get their sources and feedback back after a reload. */
const HISTORY_DETAILS = 5;

export interface WidgetState {
  phase: 'idle' | 'loading' | 'ready' | 'error';
  errorCode: string | null;
  connection: ConnectionState | 'idle';
  sessionId: string | null;
  messages: Message[];
  open: boolean;
  unread: number;
  settings: WidgetSettings | null;
  /** The latest polite announcement for screen readers (whole sentences). */
  announcement: string;
  /** Who answers the conversation (human handoff); null until known or where the platform has no handoff. */
  handoff: HandoffView | null;
}

export interface HandoffView {
  state: ConversationState;
  waitingPosition: number | null;
  agentName: string | null;
  agentTyping: boolean;
  agentsAvailable: boolean | null;
}

interface StoredSession {
  sessionId: string;
  lastActiveAt: number;
  /** Answers asked for but not seen final, to resume after a reload. */
  pending: string[];
  open: boolean;
}

interface Turn {
  seq: number;
  role: 'USER' | 'ASSISTANT' | 'AGENT';
  text: string;
  answerId: string | null;
  authorName?: string | null;
}

type Listener = (state: WidgetState) => void;

/**
 * The widget's behaviour without its looks: visitor session, history, asking, the live answer stream with
 * resume after drops and reloads, feedback, unread count and screen-reader announcements. The Preact view
 * renders its state; the npm export drives the same controller.
 */
export class WidgetController {
  state: WidgetState = {
    phase: 'idle',
    errorCode: null,
    connection: 'idle',
    sessionId: null,
    messages: [],
    open: false,
    unread: 0,
    settings: null,
    announcement: '',
    handoff: null,
  };
  private readonly listeners = new Set<Listener>();
  private stopStream: (() => void) | null = null;
  private starting: Promise<void> | null = null;
  private readonly announced = new Map<string, number>();
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private lastEventAt = 0;
  private readonly sessionKey: string;

  constructor(
    private readonly api: WidgetApi,
    private readonly options: {
      widgetKey: string;
      transport: TransportKind;
      storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
      locale: string;
    },
  ) {
    this.sessionKey = `beedesk:${options.widgetKey}:session`;
    this.settingsKey = `beedesk:${options.widgetKey}:settings`;
    // The tenant's look from the last visit, so the launcher has it before any request.
    try {
      const cached = options.storage?.getItem(this.settingsKey);
      if (cached) this.state = { ...this.state, settings: JSON.parse(cached) as WidgetSettings };
    } catch {
      // Nothing cached: the platform's default look until the first exchange.
    }
  }

  private readonly settingsKey: string;

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<WidgetState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener(this.state);
  }

  /** On page load: a conversation active within 30 minutes comes back at once (history, a streaming answer). */
  init(): void {
    const stored = this.readStored();
    if (stored && Date.now() - stored.lastActiveAt < RESUME_WINDOW_MS) {
      if (stored.open) this.set({ open: true });
      void this.start();
    }
  }

  setOpen(open: boolean): void {
    this.set({ open, unread: open ? 0 : this.state.unread });
    this.store({ open });
    if (open) void this.start();
  }

  /** Visitor token, session (resumed by the platform within 30 min), history, then the live stream. */
  start(): Promise<void> {
    if (this.starting) return this.starting;
    this.set({ phase: 'loading', errorCode: null });
    this.starting = (async () => {
      try {
        const visitor = await this.api.visitor();
        this.set({ settings: visitor.settings });
        try {
          this.options.storage?.setItem(this.settingsKey, JSON.stringify(visitor.settings));
        } catch {
          // Not kept: fetched again next time.
        }
        const { startSession } = await this.api.run<{ startSession: { id: string; turns: Turn[] } }>('WidgetStartSession', {});
        const stored = this.readStored();
        const sameSession = stored?.sessionId === startSession.id;
        const messages = this.historyOf(startSession.turns);
        this.set({ sessionId: startSession.id, messages, phase: 'ready' });
        for (const message of messages) this.announced.set(message.id, message.text.length);
        this.store({ sessionId: startSession.id, pending: sameSession ? (stored?.pending ?? []) : [] });
        this.openStream(startSession.id);
        // Answers still being produced when the page was left: shown from their stored text, then live.
        if (sameSession) await this.resync(stored?.pending ?? []);
        void this.readHandoff(startSession.id);
        // The latest answers' sources and feedback (turns carry only the text).
        const recent = messages.filter((m) => m.role === 'assistant' && !m.id.startsWith('turn-')).slice(-HISTORY_DETAILS);
        await this.resync(recent.map((m) => m.id));
      } catch (error) {
        this.starting = null;
        this.set({ phase: 'error', errorCode: error instanceof WidgetError ? error.code : 'NETWORK' });
      }
    })();
    return this.starting;
  }

  private historyOf(turns: Turn[]): Message[] {
    return turns.map((turn) =>
      turn.role === 'USER'
        ? textMessage(`turn-${turn.seq}`, 'user', turn.text)
        : turn.role === 'AGENT'
          ? textMessage(`turn-${turn.seq}`, 'agent', turn.text, turn.authorName ?? undefined)
          : textMessage(turn.answerId ?? `turn-${turn.seq}`, 'assistant', turn.text),
    );
  }

  /** Who answers now (after a reload: waiting for a person, or with one). Absent handoff service: stays null. */
  private async readHandoff(sessionId: string): Promise<void> {
    try {
      const { session } = await this.api.run<{ session: { handoff: HandoffView } | null }>('WidgetHandoff', { sessionId });
      if (session) this.set({ handoff: session.handoff });
    } catch {
      // No handoff on this platform (or not yet): the visitor talks to the assistant.
    }
  }

  /** "Talk to a person": joins the tenant's waiting line (or is told no one is available). */
  async requestHuman(): Promise<void> {
    await this.start();
    const sessionId = this.state.sessionId;
    if (!sessionId) return;
    try {
      const { requestHuman } = await this.api.run<{ requestHuman: HandoffView }>('WidgetRequestHuman', {
        sessionId,
        locale: this.options.locale,
      });
      this.set({ handoff: requestHuman });
    } catch (error) {
      this.set({ errorCode: error instanceof WidgetError ? error.code : 'NETWORK' });
    }
  }

  private typingSentAt = 0;
  /** Tells the agent the visitor is typing (at most every 3 s; the platform switches it off by itself). */
  typing(): void {
    const { sessionId, handoff } = this.state;
    if (!sessionId || handoff?.state !== 'WITH_HUMAN' || Date.now() - this.typingSentAt < 3000) return;
    this.typingSentAt = Date.now();
    void this.api.run('WidgetSetTyping', { sessionId, typing: true }).catch(() => undefined);
  }

  private onHandoff(kind: string, update: ConversationUpdate): void {
    const current: HandoffView = this.state.handoff ?? {
      state: 'BOT',
      waitingPosition: null,
      agentName: null,
      agentTyping: false,
      agentsAvailable: null,
    };
    const next: HandoffView = {
      ...current,
      state: update.state,
      agentName: update.agentName ?? (update.state === 'WITH_HUMAN' ? current.agentName : null),
      waitingPosition: update.waitingPosition ?? (update.state === 'WAITING_FOR_HUMAN' ? current.waitingPosition : null),
      agentTyping: kind === 'AGENT_TYPING' ? Boolean(update.typing) : kind === 'AGENT_MESSAGE' ? false : current.agentTyping,
    };
    this.set({ handoff: next });
    if ((kind === 'AGENT_MESSAGE' || kind === 'HANDOFF_NOTICE') && update.text) {
      const role = kind === 'AGENT_MESSAGE' ? 'agent' : 'system';
      this.update(update.id, (m) => m ?? textMessage(update.id, role, update.text!, update.agentName ?? undefined));
      if (role === 'agent') this.set({ announcement: `${update.agentName ?? ''}: ${update.text}` });
    }
  }

  /** Resolves once the answer stream is subscribed (a question asked earlier could miss its first events). */
  private streamLive: Promise<void> = Promise.resolve();

  private openStream(sessionId: string): void {
    this.stopStream?.();
    let markLive: () => void = () => undefined;
    this.streamLive = new Promise<void>((resolve) => (markLive = resolve));
    this.stopStream = subscribe<{ answerStream: AnswerEvent }>(
      this.api,
      this.options.transport,
      'WidgetAnswerStream',
      { sessionId },
      {
        next: ({ answerStream }) => this.onEvent(answerStream),
        live: (resumed) => {
          markLive();
          if (resumed) void this.resync(this.openAnswers());
        },
        state: (connection) => this.set({ connection }),
        fatal: (code) => this.set({ errorCode: code }),
      },
    );
    this.watchdog ??= setInterval(() => {
      // An answer open with no event for a while (its DONE fell into a drop): read it.
      if (Date.now() - this.lastEventAt > 4000 && this.openAnswers().length) void this.resync(this.openAnswers());
    }, 2000);
  }

  private openAnswers(): string[] {
    return this.state.messages.filter((m) => m.role === 'assistant' && !isFinal(m)).map((m) => m.id);
  }

  /** Reads the stored answers (final text, or text streamed so far with its seq) and merges them. */
  private async resync(answerIds: string[]): Promise<void> {
    for (const id of answerIds) {
      try {
        const { answer } = await this.api.run<{ answer: StoredAnswer | null }>('WidgetAnswer', { id });
        if (answer) this.update(id, (m) => applySnapshot(m ?? assistantMessage(id), answer));
      } catch {
        // Unreachable now: the next reconnect or watchdog tick tries again.
      }
    }
  }

  private onEvent(event: AnswerEvent): void {
    this.lastEventAt = Date.now();
    if (isHandoffEvent(event)) {
      if (event.handoff) this.onHandoff(event.kind, event.handoff);
      return;
    }
    this.update(event.answerId, (m) => applyEvent(m, event));
    const message = this.state.messages.find((m) => m.id === event.answerId);
    if (message && hasGap(message)) void this.resync([message.id]);
  }

  /** Applies `change` to the message of `id` (added after the question when new), then announces and stores. */
  private update(id: string, change: (message: Message | undefined) => Message): void {
    const messages = [...this.state.messages];
    const index = messages.findIndex((m) => m.id === id);
    const before = index >= 0 ? messages[index] : undefined;
    const after = change(before);
    if (after === before) return;
    if (index >= 0) messages[index] = after;
    else messages.push(after);
    let { unread } = this.state;
    const finished = isFinal(after) && !(before && isFinal(before));
    if (finished && !this.state.open && (after.role === 'assistant' || after.role === 'agent')) unread++;
    this.set({ messages, unread });
    this.announce(after);
    if (finished) this.store({ pending: (this.readStored()?.pending ?? []).filter((p) => p !== id) });
  }

  /** Polite announcements by whole sentence, never per token. */
  private announce(message: Message): void {
    if (message.role !== 'assistant') return;
    const done = this.announced.get(message.id) ?? 0;
    if (message.text.length <= done) return;
    const { sentences, rest } = completeSentences(message.text.slice(done));
    const spoken = isFinal(message) ? [...sentences, rest.trim()].filter(Boolean) : sentences;
    if (spoken.length === 0) return;
    this.announced.set(message.id, isFinal(message) ? message.text.length : message.text.length - rest.length);
    this.set({ announcement: spoken.join(' ') });
  }

  /** Sends a question; the answer follows on the stream. */
  async ask(raw: string): Promise<boolean> {
    const text = raw.trim();
    if (!text || text.length > MAX_QUESTION_CHARS) return false;
    await this.start();
    const sessionId = this.state.sessionId;
    if (!sessionId) return false;
    // Ask once the stream listens (at most 3 s: the watchdog reads a missed answer anyway).
    await Promise.race([this.streamLive, new Promise((resolve) => setTimeout(resolve, 3000))]);
    const clientId = `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    this.set({ messages: [...this.state.messages, { ...textMessage(clientId, 'user', text), status: 'sending' }] });
    try {
      const { ask } = await this.api.run<{ ask: { queuePosition: number; conversationState: ConversationState; answer: { id: string } } }>(
        'WidgetAsk',
        {
          sessionId,
          text,
          clientMessageId: clientId,
        },
      );
      this.lastEventAt = Date.now();
      const messages = this.state.messages.map((m) => (m.id === clientId ? { ...m, status: 'done' as const } : m));
      this.set({ messages });
      // With a person (or waiting for one), the question went to staff: no assistant answer follows.
      if (ask.conversationState !== 'BOT') return true;
      this.update(ask.answer.id, (m) => m ?? assistantMessage(ask.answer.id, ask.queuePosition));
      if (!this.state.messages.find((m) => m.id === ask.answer.id && isFinal(m))) {
        this.store({ pending: [...(this.readStored()?.pending ?? []), ask.answer.id] });
      }
      return true;
    } catch (error) {
      const code = error instanceof WidgetError ? error.code : 'NETWORK';
      this.set({
        messages: this.state.messages.map((m) => (m.id === clientId ? { ...m, status: 'failed' as const } : m)),
        errorCode: code,
      });
      return false;
    }
  }

  async rate(answerId: string, helpful: boolean): Promise<void> {
    this.update(answerId, (m) => (m ? { ...m, feedback: helpful } : assistantMessage(answerId)));
    try {
      await this.api.run('WidgetRateAnswer', { answerId, helpful });
    } catch {
      this.update(answerId, (m) => (m ? { ...m, feedback: null } : assistantMessage(answerId)));
    }
  }

  /** Starts over as a verified user (BeedeskWidget.identify): their own conversation, on any device. */
  async identify(identityToken: string): Promise<void> {
    this.stop();
    this.api.identify(identityToken);
    this.starting = null;
    this.announced.clear();
    this.options.storage?.removeItem(this.sessionKey);
    this.set({ messages: [], sessionId: null, handoff: null, unread: 0 });
    await this.start();
  }

  stop(): void {
    this.stopStream?.();
    this.stopStream = null;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private readStored(): StoredSession | null {
    try {
      const raw = this.options.storage?.getItem(this.sessionKey);
      return raw ? (JSON.parse(raw) as StoredSession) : null;
    } catch {
      return null;
    }
  }

  private store(patch: Partial<StoredSession>): void {
    const current = this.readStored() ?? { sessionId: this.state.sessionId ?? '', lastActiveAt: 0, pending: [], open: false };
    try {
      this.options.storage?.setItem(this.sessionKey, JSON.stringify({ ...current, ...patch, lastActiveAt: Date.now() }));
    } catch {
      // Storage full or blocked: the conversation simply does not survive a reload.
    }
  }
}
