export { createAuthenticator } from './auth';
export { anonymousCaller, type Authenticator, type AuthResult, type Caller, type Credential, type Credentials } from './caller';
export { DEV_JWT_SECRET, gatewayEnv, subgraphUrlOverride, type GatewayConfig } from './config';
export { corsPolicyOf, type CorsPolicy } from './cors';
export { mintToken, type TokenRequest } from './dev-tokens';
export { CostAnalyzer, costAnnotationsOf, DEFAULT_LIMIT_SETTINGS, limitSettingsFromEnv, type GatewayLimitSettings } from './limits';
export { startGateway, type GatewayOptions, type StartedGateway } from './server';
export { gatewayKeys, type GatewayKeys } from './keys';
