export * from './in-process';
export * from './kafka';
export * from './types';
