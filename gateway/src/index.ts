export { anonymousCaller, createAuthenticator, type Authenticator } from './auth';
export { DEV_JWT_SECRET, gatewayEnv, subgraphUrlOverride, type GatewayConfig } from './config';
export { startGateway, type GatewayOptions, type StartedGateway } from './server';
