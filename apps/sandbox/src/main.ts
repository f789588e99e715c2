// The sandbox as a process: `npm start -w @conduit/sandbox`. Reads its environment here only.
import { DeclarationError, formatProblem, providerFilesFrom, useProviderFiles } from '@conduit/core';
import { EX_CONFIG, loadDotEnv } from '@conduit/config';
import { createLogger } from '@conduit/observability';
import { parseFaultConfig } from './fault-config.ts';
import { startSandbox } from './sandbox.ts';

loadDotEnv(process.env);

// CONDUIT_PROVIDERS_FILE may come from .env, read just now: the sandbox imitates what it declares.
try {
  useProviderFiles(providerFilesFrom(process.env.CONDUIT_PROVIDERS_FILE));
} catch (err) {
  if (!(err instanceof DeclarationError)) throw err;
  process.stderr.write(
    `conduit sandbox: CONDUIT_PROVIDERS_FILE is invalid:\n${err.problems.map((p) => `  ${formatProblem(p)}\n`).join('')}`,
  );
  process.exit(EX_CONFIG);
}

function integerFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name}="${raw}" is not a non-negative integer (e.g. ${name}=${fallback})`);
  }
  return value;
}

const format =
  process.env.LOG_FORMAT === 'pretty' || process.env.LOG_FORMAT === 'json'
    ? process.env.LOG_FORMAT
    : process.stdout.isTTY
      ? 'pretty'
      : 'json';
const logger = createLogger({
  name: 'sandbox',
  format,
  level: (process.env.LOG_LEVEL ?? 'info') as Parameters<typeof createLogger>[0]['level'],
});

try {
  const faultsText = process.env.CONDUIT_SANDBOX_FAULTS;
  const sandbox = await startSandbox({
    host: process.env.CONDUIT_SANDBOX_HOST || '127.0.0.1',
    port: integerFromEnv('CONDUIT_SANDBOX_PORT', 4000),
    seed: integerFromEnv('CONDUIT_SANDBOX_SEED', 42),
    newAccountMeetings: integerFromEnv('CONDUIT_SANDBOX_NEW_ACCOUNT_MEETINGS', 3),
    faults: faultsText ? parseFaultConfig(faultsText) : {},
    logger,
    grantsFile: process.env.CONDUIT_SANDBOX_GRANTS_FILE?.trim() ?? '',
  });
  logger.info(
    {
      url: sandbox.url,
      seed: sandbox.seed,
      faults: Boolean(faultsText),
      ...(sandbox.restoredGrants > 0 && { restoredGrants: sandbox.restoredGrants }),
    },
    'provider sandbox ready',
  );

  const shutdown = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'provider sandbox stopping');
    sandbox.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: String(error) }, 'provider sandbox did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  // Started by `npm start` over an IPC channel: when that parent dies, stop too.
  if (process.channel) process.once('disconnect', () => shutdown('SIGTERM'));
} catch (error) {
  logger.error(
    { err: error instanceof Error ? error.message : String(error) },
    'provider sandbox failed to start',
  );
  process.exit(1);
}
