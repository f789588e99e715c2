export * from './wire.ts';
export * from './identity.ts';
