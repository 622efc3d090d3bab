import type { BeedeskClient } from '@beedesk/sdk';
import {
  ConsoleHandoffEventsDocument,
  ConsoleInboxDocument,
  type ConsoleHandoffEventsSubscription,
  type ConsoleInboxQuery,
  type InboxFilter,
} from '../generated/operations';
import { describeError, op } from './api';

const INBOX = op(ConsoleInboxDocument);
const EVENTS = op(ConsoleHandoffEventsDocument);

export type InboxList = 'waiting' | 'mine' | 'open';
export type Conversation = ConsoleInboxQuery['inbox']['edges'][number]['node'];
export type HandoffEvent = ConsoleHandoffEventsSubscription['handoffEvents'];

export const LIST_FILTERS: Record<InboxList, InboxFilter> = {
  waiting: { states: ['WAITING_FOR_HUMAN'] },
  mine: { mine: true, states: ['WITH_HUMAN'] },
  open: { states: ['WAITING_FOR_HUMAN', 'WITH_HUMAN'] },
};

export interface InboxSnapshot {
  lists: Record<InboxList, { items: Conversation[]; total: number }>;
  connection: 'connecting' | 'live' | 'reconnecting' | 'away';
  error: { message: string; code: string } | null;
}

export interface LiveInboxCallbacks {
  onSnapshot(snapshot: InboxSnapshot): void;
  /** Every event, in order, after the lists it may change were reloaded (catch-up events included). */
  onEvent(event: HandoffEvent): void;
}

/**
 * The inbox's three lists kept current without a reload: read the lists (their eventCursor marks where
 * the tenant's handoff event log stood), then follow handoffEvents(after: cursor), so nothing between the
 * read and the subscription is missed. After a dropped connection it resubscribes after the last event it
 * saw (the server replays what happened meanwhile); RESYNC_REQUIRED (the log no longer reaches back that
 * far) reads the lists again. Being subscribed is also what keeps the agent ONLINE; `setAvailable(false)`
 * closes the subscription (the agent goes away) and refreshes the lists every 15 s instead.
 */
export class LiveInbox {
  private cursor: string | null = null;
  private stopped = false;
  private available = true;
  private iterator: AsyncIterableIterator<unknown> | null = null;
  private poller: ReturnType<typeof setInterval> | null = null;
  private reloadTimer: ReturnType<typeof setTimeout> | null = null;
  private wake: (() => void) | null = null;
  private snapshot: InboxSnapshot = {
    lists: { waiting: { items: [], total: 0 }, mine: { items: [], total: 0 }, open: { items: [], total: 0 } },
    connection: 'connecting',
    error: null,
  };

  constructor(
    private readonly client: BeedeskClient,
    private readonly callbacks: LiveInboxCallbacks,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    void this.iterator?.return?.();
    if (this.poller) clearInterval(this.poller);
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.wake?.();
  }

  setAvailable(available: boolean): void {
    if (available === this.available) return;
    this.available = available;
    if (!available) {
      void this.iterator?.return?.();
      this.publish({ connection: 'away' });
      this.poller = setInterval(() => void this.reload(), 15_000);
    } else {
      if (this.poller) clearInterval(this.poller);
      this.poller = null;
      this.wake?.();
    }
  }

  /** Reads the three lists now; keeps the log position of the first read when none is held yet. */
  async reload(): Promise<void> {
    const [waiting, mine, open] = await Promise.all(
      (['waiting', 'mine', 'open'] as const).map((list) => this.client.request(INBOX, { filter: LIST_FILTERS[list], first: 50 })),
    );
    const page = (r: ConsoleInboxQuery) => ({ items: r.inbox.edges.map((e) => e.node), total: r.inbox.totalCount });
    this.cursor ??= waiting!.inbox.eventCursor;
    this.publish({ lists: { waiting: page(waiting!), mine: page(mine!), open: page(open!) }, error: null });
  }

  private scheduleReload(): void {
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      this.reload().catch((error: unknown) => this.publish({ error: describeError(error) }));
    }, 150);
  }

  private publish(change: Partial<InboxSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    this.callbacks.onSnapshot(this.snapshot);
  }

  private async run(): Promise<void> {
    let delay = 500;
    while (!this.stopped) {
      if (!this.available) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      try {
        // Lists first (the first read gives the cursor; after a reconnect they are read again), then every
        // event since the cursor. Live only once the gateway answered.
        await this.reload();
        const events = this.client.subscribe(EVENTS, { after: this.cursor });
        this.iterator = events;
        this.publish({ connection: 'live', error: null });
        for await (const { handoffEvents: event } of events) {
          delay = 500;
          this.cursor = event.cursor;
          if (event.kind === 'RESYNC_REQUIRED') await this.reload();
          else if (event.kind !== 'TYPING') this.scheduleReload();
          this.callbacks.onEvent(event);
        }
      } catch (error) {
        const described = describeError(error);
        if (described.code === 'FORBIDDEN' || described.code === 'UNAUTHENTICATED') {
          this.publish({ error: described, connection: 'reconnecting' });
          return;
        }
        if (!this.stopped && this.available) this.publish({ error: described });
      }
      if (this.stopped || !this.available) continue;
      this.publish({ connection: 'reconnecting' });
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10_000);
      // graphql-ws opens a fresh connection for the next subscribe once the old one is gone.
    }
  }
}

/** A short two-tone chime for a new assignment (Web Audio: no sound file to fetch). */
export function chime(): void {
  try {
    const audio = new AudioContext();
    for (const [i, frequency] of [880, 1320].entries()) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.08, audio.currentTime + i * 0.15);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + i * 0.15 + 0.25);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(audio.currentTime + i * 0.15);
      oscillator.stop(audio.currentTime + i * 0.15 + 0.3);
    }
    setTimeout(() => void audio.close(), 1000);
  } catch {
    // No audio output (or not allowed yet): the title badge and the notification still tell.
  }
}
