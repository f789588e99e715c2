export * from './refresh-stats.ts';
export * from './queue-depths.ts';
