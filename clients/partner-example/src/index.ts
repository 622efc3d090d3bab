export * from './persisted-client';
export * from './example';
