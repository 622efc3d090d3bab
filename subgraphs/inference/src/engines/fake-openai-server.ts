import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { remainderAfter } from './chunks';

/** How the fake answers one request: stream normally, or fail in one of the ways real ones do. */
export type FakeLlmMode = 'ok' | 'stall' | 'stall-mid-stream' | 'http-500' | 'reset' | 'http-400';

export interface FakeLlmRequest {
  model: string;
  messages: { role: string; content: string }[];
  stream: boolean;
}

/**
 * A loopback OpenAI-compatible chat-completions server for tests and local development: streams a
 * reply naming the first article of the prompt, and fails on demand (stalls, 500s, resets) so the
 * engine's deadlines, retries and circuit breaker can be driven for real over HTTP.
 * Control: `plan(...)` in-process, or `POST /__plan {"modes":[…],"tokenDelayMs":n}` from outside.
 */
export class FakeOpenAIServer {
  readonly requests: FakeLlmRequest[] = [];
  private modes: FakeLlmMode[] = [];
  private fallbackMode: FakeLlmMode = 'ok';
  private tokenDelayMs = 5;
  /** Which article of the prompt the replies are written from: [n], 1-based; 0 none (see replyFor). */
  answerFrom = 1;
  private server: Server | null = null;
  private readonly sockets = new Set<import('node:net').Socket>();

  /** Modes for the next requests, in order; after them `then` applies (default ok). */
  plan(modes: FakeLlmMode[], then: FakeLlmMode = 'ok', tokenDelayMs = this.tokenDelayMs): void {
    this.modes = [...modes];
    this.fallbackMode = then;
    this.tokenDelayMs = tokenDelayMs;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    return `http://${host}:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /**
   * The reply the fake streams for a request (tests compare against it): written from the prompt's
   * article [answerFrom] (naming its title), or, with answerFrom 0 or no such article, from none.
   */
  static replyFor(request: FakeLlmRequest, answerFrom = 1): string {
    const system = request.messages.find((m) => m.role === 'system')?.content ?? '';
    const question = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const title = answerFrom > 0 ? new RegExp(`\\[${answerFrom}\\] (.+)`).exec(system)?.[1] : undefined;
    if (answerFrom !== 1 && !title) return `Sorry, I have no article about that. Shall I hand you to a person? (${question})`;
    return `According to "${title ?? 'no article'}", here is the answer to: ${question}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await new Promise<string>((resolve) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString('utf8')));
      req.on('end', () => resolve(data));
    });
    if (req.url === '/__plan') {
      const { modes, then, tokenDelayMs } = JSON.parse(body) as { modes: FakeLlmMode[]; then?: FakeLlmMode; tokenDelayMs?: number };
      this.plan(modes, then, tokenDelayMs);
      res.writeHead(204).end();
      return;
    }
    if (req.url !== '/v1/chat/completions' || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const request = JSON.parse(body) as FakeLlmRequest;
    this.requests.push(request);
    const mode = this.modes.shift() ?? this.fallbackMode;
    if (mode === 'reset') return void req.socket.destroy();
    if (mode === 'http-500' || mode === 'http-400') {
      res.writeHead(mode === 'http-500' ? 500 : 400, { 'content-type': 'application/json' }).end('{"error":{"message":"fake failure"}}');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (mode === 'stall') return; // headers, then silence until the client gives up
    const reply = FakeOpenAIServer.replyFor(request, this.answerFrom);
    const last = request.messages[request.messages.length - 1];
    const assistantPrefix = last?.role === 'assistant' ? last.content : '';
    const tokens = remainderAfter(reply, assistantPrefix).match(/\S+\s*/g) ?? [];
    for (let i = 0; i < tokens.length; i++) {
      if (mode === 'stall-mid-stream' && i === 2) return;
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: tokens[i] }, finish_reason: null }] })}\n\n`);
      await new Promise((resolve) => setTimeout(resolve, this.tokenDelayMs));
    }
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
    res.end('data: [DONE]\n\n');
  }
}
