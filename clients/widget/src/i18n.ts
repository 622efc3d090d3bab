/** The widget's languages: English and Simplified Chinese, including the platform's own messages. */
export type Locale = 'en' | 'zh-CN';

const en = {
  launcherOpen: 'Open chat',
  launcherClose: 'Close chat',
  unread: (n: number) => (n === 1 ? '1 unread message' : `${n} unread messages`),
  title: 'Help',
  subtitle: 'Ask us anything',
  greeting: 'Hi! How can we help you today?',
  close: 'Close',
  inputLabel: 'Your message',
  placeholder: 'Type your question…',
  send: 'Send',
  thinking: 'Thinking…',
  queue: (n: number) => (n === 1 ? 'You are next in line.' : `${n} questions are ahead of yours.`),
  sources: 'Sources',
  helpful: 'Helpful',
  notHelpful: 'Not helpful',
  thanks: 'Thanks for your feedback.',
  fallback: 'We are very busy right now. Please try again in a moment.',
  failed: 'Sorry, this question could not be answered. Please try again.',
  needsHuman: 'A member of our team can follow up on this.',
  connecting: 'Connecting…',
  reconnecting: 'Connection lost. Reconnecting…',
  offline: 'The chat is unavailable right now.',
  originRefused: 'Chat is not enabled for this site.',
  rateLimited: 'Too many requests. Please wait a moment.',
  youSaid: 'You',
  assistant: 'Assistant',
  loading: 'Loading your conversation…',
  tooLong: 'That message is too long.',
  talkToPerson: 'Talk to a person',
  waitingForAgent: 'Waiting for a person to join…',
  waitingPosition: (n: number) => (n <= 1 ? 'You are next.' : `Position in line: ${n}.`),
  agentJoined: (name: string) => `${name} joined the chat.`,
  agentTyping: (name: string) => `${name} is typing…`,
  agentLeft: 'The conversation is back with the assistant.',
  agent: 'Agent',
};

export type Messages = typeof en;

const zh: Messages = {
  launcherOpen: '打开聊天',
  launcherClose: '关闭聊天',
  unread: (n) => `${n} 条未读消息`,
  title: '帮助',
  subtitle: '有问题尽管问',
  greeting: '您好！今天有什么可以帮您？',
  close: '关闭',
  inputLabel: '您的消息',
  placeholder: '请输入您的问题…',
  send: '发送',
  thinking: '正在思考…',
  queue: (n) => (n === 1 ? '下一个就轮到您。' : `您前面还有 ${n} 个问题。`),
  sources: '来源',
  helpful: '有帮助',
  notHelpful: '没有帮助',
  thanks: '感谢您的反馈。',
  fallback: '目前咨询人数较多，请稍后再试。',
  failed: '抱歉，暂时无法回答这个问题，请重试。',
  needsHuman: '我们的工作人员可以跟进此问题。',
  connecting: '正在连接…',
  reconnecting: '连接已断开，正在重新连接…',
  offline: '聊天暂时不可用。',
  originRefused: '本网站未启用聊天。',
  rateLimited: '请求过多，请稍候。',
  youSaid: '您',
  assistant: '助手',
  loading: '正在加载您的对话…',
  tooLong: '消息太长了。',
  talkToPerson: '转人工客服',
  waitingForAgent: '正在等待人工客服接入…',
  waitingPosition: (n) => (n <= 1 ? '下一个就是您。' : `排队位置：第 ${n} 位。`),
  agentJoined: (name) => `${name} 已加入对话。`,
  agentTyping: (name) => `${name} 正在输入…`,
  agentLeft: '对话已交回智能助手。',
  agent: '客服',
};

/**
 * The language to use: an explicit setting, else the page's `lang`, else the browser's languages;
 * any Chinese tag (zh, zh-CN, zh-Hans, zh-SG…) picks Simplified Chinese, anything else English.
 */
export function pickLocale(explicit: string | undefined, pageLang: string | undefined, browser: readonly string[]): Locale {
  for (const tag of [explicit, pageLang, ...browser]) {
    if (!tag) continue;
    return /^zh\b/i.test(tag) ? 'zh-CN' : 'en';
  }
  return 'en';
}

export const messagesFor = (locale: Locale): Messages => (locale === 'zh-CN' ? zh : en);

/**
 * Splits streamed text into sentences complete so far and the unfinished rest, for polite screen-reader
 * announcements per sentence rather than per token (Latin and CJK sentence ends, and line breaks).
 */
export function completeSentences(text: string): { sentences: string[]; rest: string } {
  const sentences: string[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    let end = -1;
    if ('。！？'.includes(ch) || ch === '\n') end = i + 1;
    // A Latin full stop ends a sentence only when followed by white space (not "3.5", not yet streamed on).
    else if ('.!?'.includes(ch) && i + 1 < text.length && /\s/.test(text[i + 1]!)) end = i + 1;
    if (end < 0) continue;
    while (end < text.length && '。！？.!?'.includes(text[end]!)) end++;
    const sentence = text.slice(from, end).trim();
    if (sentence) sentences.push(sentence);
    from = end;
    i = end - 1;
  }
  return { sentences, rest: text.slice(from) };
}
