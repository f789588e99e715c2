// The CLI's AppContext: the apps' own, built from the same configuration, except that log lines
// go to stderr (stdout carries results, e.g. --json) and default to warnings only.
import { ConfigError, loadConfig } from '@conduit/config';
import { VaultConfigError } from '@conduit/core';
import { createLogger } from '@conduit/observability';
import { createContext, type AppContext } from '@conduit/runtime';
import { CliError, EXIT } from './errors.ts';

export function openCliContext(env: NodeJS.ProcessEnv = process.env): AppContext {
  let config;
  try {
    config = loadConfig({ LOG_LEVEL: 'warn', ...env }, { isTTY: process.stderr.isTTY === true });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new CliError(
      `the configuration is invalid; fix these settings and run the command again:\n${err.problems
        .map((p) => `  ${p}`)
        .join('\n')}`,
      EXIT.config,
    );
  }
  let ctx: AppContext;
  try {
    ctx = createContext(config, 'cli');
  } catch (err) {
    // The keyring is checked in full only when the vault is built.
    if (err instanceof VaultConfigError)
      throw new CliError(`the configuration is invalid: ${err.message}.`, EXIT.config);
    throw err;
  }
  const logger = createLogger({
    level: config.runtime.logLevel,
    format: config.runtime.logFormat,
    name: 'cli',
    destination: process.stderr,
    userIdHasher: ctx.hashOwner,
  });
  // The context's own handler logs to stdout; Redis trouble belongs with the other messages.
  ctx.redis.removeAllListeners('error');
  ctx.redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  return { ...ctx, logger };
}
