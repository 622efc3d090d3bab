export { createWidgetExchange, IDENTITY_TOKEN_MAX_SECONDS, type WidgetSessionAnswer } from './exchange';
export { isVisitorToken, VISITOR_TOKEN_ISSUER, VISITOR_TOKEN_TTL_SECONDS, VisitorTokens, type VisitorClaims } from './visitor-tokens';
