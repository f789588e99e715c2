export * from './notification-request.ts';
export * from './notification-sender.ts';
export * from './notification-drain.ts';
