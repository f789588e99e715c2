import { ConfigError, loadConfig } from '../src/index.ts';

/** The least a production deployment must set. */
export const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  CONDUIT_ENCRYPTION_KEYS: 'k1:3q2+796tvu/erb7v3q2+796tvu/erb7v3q2+796tvu8=',
  CONDUIT_LOG_HASH_KEY: 'a-long-random-log-hash-key',
  // sha256 of "prod-api-key-0123456789"
  CONDUIT_API_KEYS: 'prod:connections:read:62be5523f012718c53cf840fb9abcc108542a6efab12b676c93a814a043368eb',
  CONDUIT_OPERATORS: 'alice:admin:correct-horse-battery',
  CONDUIT_PUBLIC_URL: 'https://conduit.example.com',
  CONDUIT_APP_ORIGIN: 'https://app.example.com',
} as const;

/** The problem lines loadConfig throws for this environment; fails the test when it loads. */
export function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env, { isTTY: false });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

export function problemFor(name: string, env: NodeJS.ProcessEnv): string {
  const lines = problemsOf(env).filter((line) => line.startsWith(`${name}: `));
  if (lines.length !== 1)
    throw new Error(`expected one problem for ${name}, got ${JSON.stringify(problemsOf(env))}`);
  return lines[0] as string;
}
