/** One thing a captured log line must not be or carry. */
export interface LogFinding {
  file: string;
  line: number;
  rule: 'not-json' | 'planted-text' | 'jwt' | 'api-key' | 'secret' | 'no-tenant';
  detail: string;
  excerpt: string;
}

export interface LogAuditRules {
  /** Planted texts of every tenant, by tenant: message text must never reach a log line. */
  plantedTexts: Record<string, readonly string[]>;
  /** Values that must never be logged: JWT_SECRET, INTERNAL_SECRET, API key secrets. */
  secrets: readonly string[];
}

/** A JWT or a signed tenant context: base64url of a JSON object (`{"` → `eyJ`) followed by more segments. */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/;
const API_KEY_LIKE = /bdk_[A-Za-z0-9-]+_[A-Za-z0-9_-]{8,}/;
/** Fields that make a line about one request or one tenant's data: such a line must name the tenant. */
const REQUEST_FIELDS = ['traceId', 'requestId', 'reqId', 'sessionId', 'answerId', 'articleId', 'apiKeyId'];

const excerptOf = (text: string, at: number): string => text.slice(Math.max(0, at - 60), at + 100);

/** Every rule every line of one captured log breaks (pino JSON, one object per line). */
export function auditLog(file: string, content: string, rules: LogAuditRules): LogFinding[] {
  const findings: LogFinding[] = [];
  content.split('\n').forEach((text, index) => {
    if (!text.trim()) return;
    const line = index + 1;
    const add = (rule: LogFinding['rule'], detail: string, at = 0) =>
      findings.push({ file, line, rule, detail, excerpt: excerptOf(text, at) });
    let parsed: Record<string, unknown> | null = null;
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object') parsed = value as Record<string, unknown>;
    } catch {
      // reported below
    }
    if (!parsed) add('not-json', 'not a pino JSON line');
    for (const [tenant, texts] of Object.entries(rules.plantedTexts)) {
      for (const planted of texts) {
        const at = text.indexOf(planted);
        if (at >= 0) add('planted-text', `text of tenant ${tenant}: ${planted}`, at);
      }
    }
    const jwt = JWT_LIKE.exec(text);
    if (jwt) add('jwt', 'a JWT or a signed tenant context', jwt.index);
    const apiKey = API_KEY_LIKE.exec(text);
    if (apiKey) add('api-key', 'an API key', apiKey.index);
    for (const secret of rules.secrets) {
      const at = text.indexOf(secret);
      if (at >= 0) add('secret', `secret ${secret.slice(0, 6)}…`, at);
    }
    if (parsed && REQUEST_FIELDS.some((f) => f in parsed) && typeof parsed.tenant !== 'string') {
      add('no-tenant', `a line about a request (${REQUEST_FIELDS.filter((f) => f in parsed).join(', ')}) without a tenant`);
    }
  });
  return findings;
}

/** Findings grouped as `rule: count (first excerpt)`, for a readable failure message. */
export function summarise(findings: readonly LogFinding[]): Record<string, string> {
  const groups: Record<string, string> = {};
  for (const f of findings) {
    const key = `${f.rule} in ${f.file}`;
    const count = findings.filter((g) => g.rule === f.rule && g.file === f.file).length;
    groups[key] ??= `${count}× e.g. line ${f.line} (${f.detail}): ${f.excerpt}`;
  }
  return groups;
}
