export * from './types.ts';
export * from './providers.ts';
export * from './endpoints.ts';
export * from './lifetimes.ts';
