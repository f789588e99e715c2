export * from './context.ts';
export * from './lifecycle.ts';
export * from './fathom.ts';
export * from './identity.ts';
export * from './demo.ts';
export * from './redis-outages.ts';
export * from './reachability.ts';
