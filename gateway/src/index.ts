export { createAuthenticator } from './auth';
export { consoleAppRoutes, parseConsoleConfig } from './console-app';
export { staticFiles, type StaticFilesOptions } from './static-files';
export { anonymousCaller, type Authentication, type Authenticator, type AuthResult, type Credential, type Credentials } from './caller';
export { DEV_JWT_SECRET, gatewayEnv, subgraphUrlOverride, type GatewayConfig } from './config';
export { corsPolicyOf, type CorsPolicy } from './cors';
export { mintToken, type TokenRequest } from './dev-tokens';
export { CostAnalyzer, costAnnotationsOf, DEFAULT_LIMIT_SETTINGS, limitSettingsFromEnv, type GatewayLimitSettings } from './limits';
export {
  startGateway,
  WIDGET_GRAPHQL_ROUTE,
  WIDGET_SESSION_ROUTE,
  type GatewayOptions,
  type HttpRoute,
  type StartedGateway,
} from './server';
export { IDENTITY_TOKEN_MAX_SECONDS, VISITOR_TOKEN_TTL_SECONDS, VisitorTokens, type WidgetSessionAnswer } from './widget';
export { gatewayKeys, type GatewayKeys } from './keys';
export { DEFAULT_DOCUMENT_SETTINGS, type DocumentSettings, type GatewayMode } from './pipeline';
export { DEFAULT_APQ_CAPS, type ApqCaps } from './persisted';
