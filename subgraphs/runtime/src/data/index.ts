export * from './answers';
export * from './articles';
export * from './sessions';
export * from './tenants';
export * from './api-keys';
