export * from './catalogue/index.ts';
export * from './status/index.ts';
export * from './refresh/index.ts';
export * from './vault/index.ts';
export * from './webhooks/index.ts';
export * from './provider-api/index.ts';
export * from './fathom/index.ts';
export * from './proxy/index.ts';
