export { createAuthenticator } from './auth';
export { anonymousCaller, type Authentication, type Authenticator, type AuthResult, type Credential, type Credentials } from './caller';
export { DEV_JWT_SECRET, gatewayEnv, subgraphUrlOverride, type GatewayConfig } from './config';
export { corsPolicyOf, type CorsPolicy } from './cors';
export { CostAnalyzer, costAnnotationsOf, DEFAULT_LIMIT_SETTINGS, limitSettingsFromEnv, type GatewayLimitSettings } from './limits';
export { startGateway, type GatewayOptions, type StartedGateway } from './server';
export { DEFAULT_DOCUMENT_SETTINGS, type DocumentSettings, type GatewayMode } from './pipeline';
export { DEFAULT_APQ_CAPS, type ApqCaps } from './persisted';
