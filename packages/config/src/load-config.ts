import { VARIABLES } from './catalogue.ts';
import type { Config } from './config.ts';
import { ConfigError } from './config-error.ts';
import { readApi } from './groups/api.ts';
import { readDatabase } from './groups/database.ts';
import { readIntegration } from './groups/integration.ts';
import { readProviders } from './groups/providers.ts';
import { readRedis } from './groups/redis.ts';
import { NODE_ENV, readRuntime } from './groups/runtime.ts';
import { readSandbox } from './groups/sandbox.ts';
import { readSecurity } from './groups/security.ts';
import { readTimings } from './groups/timings.ts';
import { EnvReader } from './variable.ts';

export interface LoadConfigOptions {
  /** Whether stdout is a terminal, which picks the default LOG_FORMAT; process.stdout's by default. */
  readonly isTTY?: boolean;
}

/** Reads and validates every setting; throws a ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config {
  const ctx = { isTTY: options.isTTY ?? process.stdout.isTTY === true };
  // NODE_ENV picks every other default, so it is read first; when it is wrong, the rest is
  // still checked against the development defaults to report everything in one go.
  const first = new EnvReader(env, 'development', ctx);
  const nodeEnv = first.read(NODE_ENV) ?? 'development';
  const r = new EnvReader(env, nodeEnv, ctx);
  r.problems.push(...first.problems);

  const runtime = readRuntime(r);
  const database = readDatabase(r);
  const redis = readRedis(r);
  const providers = readProviders(r);
  const api = readApi(r);
  const security = readSecurity(r, {
    fathomEnabled: providers.clients.fathom.enabled,
    fathomWebhookMode: api.fathomWebhookMode,
  });
  const integration = readIntegration(r);
  const timings = readTimings(r);
  const sandbox = readSandbox(r);

  if (r.problems.length > 0) throw new ConfigError(inCatalogueOrder(r.problems));
  return deepFreeze({ runtime, database, redis, security, api, integration, providers, timings, sandbox });
}

export interface ExitOptions extends LoadConfigOptions {
  readonly write?: (text: string) => void;
  readonly exit?: (code: number) => never;
}

/** sysexits.h: configuration error. */
export const EX_CONFIG = 78;

/** For apps: the config, or the problems on stderr and exit code 78. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv, appName: string, options: ExitOptions = {}): Config {
  try {
    return loadConfig(env, options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const write = options.write ?? ((text: string) => process.stderr.write(text));
    write(`conduit ${appName}: configuration is invalid:\n${error.problems.map((p) => `  ${p}\n`).join('')}`);
    return (options.exit ?? process.exit)(EX_CONFIG);
  }
}

const ORDER = new Map(VARIABLES.map((v, i) => [v.name, i]));

/** Rules across groups read some groups early; the report still follows the documented order. */
function inCatalogueOrder(problems: readonly string[]): string[] {
  const rank = (line: string) => ORDER.get(line.slice(0, line.indexOf(':'))) ?? ORDER.size;
  return [...problems].sort((a, b) => rank(a) - rank(b));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
