export * from './answers';
export * from './articles';
export * from './sessions';
export * from './tenants';
