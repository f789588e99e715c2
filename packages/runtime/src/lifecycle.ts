// Start, run, stop: every app's lifecycle in one place. SIGTERM/SIGINT stop taking work, let
// what is running finish up to the grace period, close connections and exit 0; a second
// signal or an overrun grace period exits 1.
import { loadConfigOrExit, loadDotEnv, EX_CONFIG, type Config } from '@conduit/config';
import { createContext, type AppContext } from './context.ts';
import { DatastoreUnreachableError, waitForPostgres, waitForRedis } from './reachability.ts';

export interface RunningApp {
  /** stop taking work and finish what is running */
  stop(): Promise<void>;
}

export async function runApp(
  name: string,
  start: (ctx: AppContext) => Promise<RunningApp>,
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  // `.env` only for a real process: a caller that passes its own environment means exactly that one.
  if (!options.env) loadDotEnv(process.env);
  const config: Config = loadConfigOrExit(options.env ?? process.env, name);
  const ctx = createContext(config, name);
  await waitForDatastoresOrExit(ctx, name);
  let app: RunningApp;
  try {
    app = await start(ctx);
  } catch (err) {
    ctx.logger.fatal({ err }, `${name} failed to start`);
    await ctx.close().catch(() => undefined);
    process.exit(1);
  }
  ctx.logger.info({ nodeEnv: config.runtime.nodeEnv }, `${name} ready`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      ctx.logger.warn({ signal }, `${name}: second signal, exiting now`);
      process.exit(1);
    }
    stopping = true;
    const graceMs = config.timings.shutdownGraceSeconds * 1000;
    ctx.logger.info({ signal, graceMs }, `${name} stopping`);
    const overrun = setTimeout(() => {
      ctx.logger.error({ graceMs }, `${name}: work did not finish within the grace period, exiting`);
      process.exit(1);
    }, graceMs);
    overrun.unref();
    try {
      await app.stop();
      await ctx.close();
      ctx.logger.info(`${name} stopped`);
      clearTimeout(overrun);
      process.exit(0);
    } catch (err) {
      ctx.logger.error({ err }, `${name}: error while stopping`);
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // Started by `npm start` over an IPC channel: when that parent dies, even by SIGKILL, stop too.
  if (process.channel) process.on('disconnect', () => void shutdown('parent exited'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** Both datastores answer within the configured wait, or each that does not is one line on stderr and the exit. */
async function waitForDatastoresOrExit(ctx: AppContext, name: string): Promise<void> {
  const { config } = ctx;
  const timeoutMs = config.runtime.datastoreWaitSeconds * 1000;
  const results = await Promise.allSettled([
    waitForPostgres(() => ctx.db.$queryRaw`SELECT 1`, config.database.url, timeoutMs),
    waitForRedis(ctx.redis, config.redis, timeoutMs),
  ]);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length === 0) return;
  for (const failure of failures) {
    if (!(failure instanceof DatastoreUnreachableError)) throw failure;
    process.stderr.write(`conduit ${name}: ${failure.message}\n`);
  }
  await ctx.close().catch(() => undefined);
  const configuration = failures.every((f) => (f as DatastoreUnreachableError).isConfiguration);
  process.exit(configuration ? EX_CONFIG : 1);
}
