// The CLI's AppContext: the apps' own, built from the same configuration, except that log lines
// go to stderr (stdout carries results, e.g. --json) and default to warnings only.
import { ConfigError, loadConfig } from '@conduit/config';
import { VaultConfigError } from '@conduit/core';
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
  try {
    // Log lines go to stderr: stdout carries results (e.g. --json).
    return createContext(config, 'cli', { logDestination: process.stderr });
  } catch (err) {
    // The keyring is checked in full only when the vault is built.
    if (err instanceof VaultConfigError)
      throw new CliError(`the configuration is invalid: ${err.message}.`, EXIT.config);
    throw err;
  }
}
