export * from './revocation-drain.ts';
