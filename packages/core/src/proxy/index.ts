export * from './proxy-target.ts';
