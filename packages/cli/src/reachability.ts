// A command that needs Redis checks it first: the shared connection waits for Redis forever
// (right for workers riding out a restart), which for an operator at a prompt would be a hang.
import type { AppContext } from '@conduit/runtime';
import { CliError } from './errors.ts';

export async function ensureRedis(
  ctx: Pick<AppContext, 'redis' | 'config'>,
  timeoutMs = 5_000,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const answer = await Promise.race([ctx.redis.ping(), timedOut]);
    if (answer === 'timeout') {
      throw new CliError(
        `cannot reach Redis at ${new URL(ctx.config.redis.url).host} within ${timeoutMs / 1000} s; check REDIS_URL and that Redis is running.`,
      );
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Prisma's "can't reach the database" as one sentence that says what to check. */
export function describeDatabaseError(message: string): string | undefined {
  const unreachable = /Can't reach database server at `?([^`\s]+)`?/.exec(message);
  if (unreachable) {
    return `cannot reach the database at ${unreachable[1]}; check DATABASE_URL and that Postgres is running.`;
  }
  return undefined;
}
