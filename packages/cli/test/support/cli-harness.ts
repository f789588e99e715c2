// A CLI test's world, real: a cloned Postgres database, Redis under a prefix of the test's own,
// the AppContext the CLI would build from that environment, and runCli with captured output.
import { randomBytes } from 'node:crypto';
import { loadConfig } from '@conduit/config';
import { createContext, type AppContext } from '@conduit/runtime';
import { createTestDatabase, testPrefix, TEST_REDIS_URL, type TestDatabase } from '@conduit/testing';
import { Output } from '../../src/output.ts';
import { runCli } from '../../src/program.ts';

export function randomKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export type CliHarness = Awaited<ReturnType<typeof createCliHarness>>;

export async function createCliHarness(options: { encryptionKeys?: string; env?: NodeJS.ProcessEnv } = {}) {
  const database: TestDatabase = await createTestDatabase();
  const prefix = `{${testPrefix('cli')}}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    CONDUIT_QUEUE_PREFIX: prefix,
    CONDUIT_ENCRYPTION_KEYS: options.encryptionKeys ?? randomKey('k1'),
    ...options.env,
  };
  const ctx: AppContext = createContext(loadConfig(env), 'test');

  /** Runs a command line in this process against the harness's context (which stays open). */
  async function run(
    argv: string[],
    context: AppContext = ctx,
    terminal: { width?: number } = {},
  ): Promise<CliRun> {
    let stdout = '';
    let stderr = '';
    const output = new Output({
      out: (t) => (stdout += t),
      err: (t) => (stderr += t),
      width: terminal.width,
    });
    const code = await runCli(argv, { output, openContext: () => ({ ...context, close: async () => {} }) });
    return { code, stdout, stderr };
  }

  /** An output to hand a command function directly. */
  function capture() {
    const lines = { out: '', err: '' };
    const output = new Output({ out: (t) => (lines.out += t), err: (t) => (lines.err += t) });
    return { output, lines };
  }

  async function close() {
    await ctx.queues.close();
    const keys = await ctx.redis.keys(`${prefix}*`);
    if (keys.length) await ctx.redis.del(...keys);
    await ctx.close();
    await database.drop();
  }

  return { database, prefix, env, ctx, db: ctx.db, run, capture, close };
}
