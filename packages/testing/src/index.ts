export * from './env.ts';
export * from './database.ts';
export * from './redis.ts';
export * from './wait.ts';
export * from './private-postgres.ts';
export * from './processes.ts';
export * from './private-redis.ts';
export * from './redis-cluster.ts';
