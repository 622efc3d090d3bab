/** What the customer is told on answerStream (HANDOFF_NOTICE), in their language: en or zh-CN. */
export type HandoffNotice =
  'WAITING_FOR_AGENT' | 'NO_AGENT_ONLINE' | 'OUTSIDE_WORKING_HOURS' | 'AGENT_JOINED' | 'RETURNED_TO_BOT' | 'RESOLVED';
export type CustomerLocale = 'en' | 'zh-CN';

export interface NoticeParams {
  /** WAITING_FOR_AGENT: conversations ahead. */
  position?: number | null;
  /** AGENT_JOINED: the agent's display name. */
  agentName?: string | null;
  /** NO_AGENT_ONLINE, OUTSIDE_WORKING_HOURS: true when they keep waiting, false when the assistant carries on. */
  waits?: boolean;
}

const TEXTS: Record<CustomerLocale, Record<HandoffNotice, (p: NoticeParams) => string>> = {
  en: {
    WAITING_FOR_AGENT: ({ position }) =>
      !position
        ? 'You are next in line for a person; someone will be with you shortly.'
        : `You are waiting for a person. ${position} ${position === 1 ? 'conversation is' : 'conversations are'} ahead of you.`,
    NO_AGENT_ONLINE: ({ waits }) =>
      waits
        ? 'No agent is online right now. You stay in line, and a person will reply as soon as one is available.'
        : 'No agent is online right now, so the assistant will keep helping you.',
    OUTSIDE_WORKING_HOURS: ({ waits }) =>
      waits
        ? 'We are outside our working hours. You stay in line, and a person will reply when we are back.'
        : 'We are outside our working hours, so the assistant will keep helping you.',
    AGENT_JOINED: ({ agentName }) => `${agentName ?? 'An agent'} joined the conversation.`,
    RETURNED_TO_BOT: () => 'The assistant is helping you again.',
    RESOLVED: () => 'This conversation was marked as resolved. Write again any time.',
  },
  'zh-CN': {
    WAITING_FOR_AGENT: ({ position }) =>
      !position ? '马上为您接通人工客服，请稍候。' : `正在为您转接人工客服，您前面还有 ${position} 位。`,
    NO_AGENT_ONLINE: ({ waits }) =>
      waits ? '目前没有在线的人工客服。您将继续排队，客服上线后会尽快回复您。' : '目前没有在线的人工客服，智能助手将继续为您服务。',
    OUTSIDE_WORKING_HOURS: ({ waits }) =>
      waits ? '现在是非工作时间。您将继续排队，我们上班后会尽快回复您。' : '现在是非工作时间，智能助手将继续为您服务。',
    AGENT_JOINED: ({ agentName }) => `客服 ${agentName ?? ''} 已接入对话。`.replace('  ', ' '),
    RETURNED_TO_BOT: () => '智能助手将继续为您服务。',
    RESOLVED: () => '本次对话已标记为已解决。如有需要，欢迎随时再次咨询。',
  },
};

/** en or zh-CN from a BCP-47 tag (zh, zh-CN, zh-Hans… → zh-CN; anything else → en); null when none given. */
export function customerLocaleOf(tag: string | null | undefined): CustomerLocale | null {
  if (!tag) return null;
  return tag.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

/** The language of a customer's text: Chinese when it has Han characters, else English. */
export const localeOfText = (text: string): CustomerLocale => (/[\u3400-\u9fff]/.test(text) ? 'zh-CN' : 'en');

export function noticeText(notice: HandoffNotice, locale: string | null | undefined, params: NoticeParams = {}): string {
  return TEXTS[customerLocaleOf(locale) ?? 'en'][notice](params);
}
