// A command that needs Redis checks it first: the shared connection waits for Redis forever
// (right for workers riding out a restart), which for an operator at a prompt would be a hang.
import { DatastoreUnreachableError, waitForRedis, type AppContext } from '@conduit/runtime';
import { CliError } from './errors.ts';

export async function ensureRedis(
  ctx: Pick<AppContext, 'redis' | 'config'>,
  timeoutMs = 5_000,
): Promise<void> {
  try {
    await waitForRedis(ctx.redis, ctx.config.redis, timeoutMs);
  } catch (error) {
    if (error instanceof DatastoreUnreachableError) throw new CliError(`${error.message}.`);
    throw error;
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
