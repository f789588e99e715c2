export * from './api.ts';
export * from './api-caller.ts';
export * from './budget.ts';
export * from './meeting-row.ts';
export * from './sync-cursor.ts';
export * from './sync-processor.ts';
export * from './transcript-processor.ts';
export * from './workers.ts';
