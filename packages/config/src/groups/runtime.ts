import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { integer, namesFrom, oneOf } from '../kinds.ts';
import { NODE_ENVS, optionalVariable, variable } from '../variable.ts';
import type { EnvReader, NodeEnv } from '../variable.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const NODE_ENV = variable({
  name: 'NODE_ENV',
  group: 'runtime',
  description:
    'Which defaults apply: development and test run against the local sandbox with development-only secrets; production requires real secrets.',
  schema: oneOf(NODE_ENVS, 'a known environment'),
  development: 'development',
  production: 'development',
});

export const LOG_LEVEL = variable({
  name: 'LOG_LEVEL',
  group: 'runtime',
  description: 'Least severe log level written (silent writes nothing).',
  schema: oneOf(LOG_LEVELS, 'a log level'),
  development: 'info',
  production: 'info',
});

export const LOG_FORMAT = variable({
  name: 'LOG_FORMAT',
  group: 'runtime',
  description:
    'json: one JSON object per line, for log collectors. pretty: coloured lines for people. By default pretty only on a terminal outside production.',
  schema: oneOf(LOG_FORMATS, 'a log format'),
  development: {
    shown: 'pretty',
    note: 'json when stdout is not a terminal',
    compute: ({ isTTY }) => (isTTY ? 'pretty' : 'json'),
  },
  production: 'json',
});

/** The repository root: the default data folder and `.env` live there, whatever the cwd. */
export const REPOSITORY_ROOT = join(import.meta.dirname, '../../../..');

export const CONDUIT_DATA_DIR = variable({
  name: 'CONDUIT_DATA_DIR',
  group: 'runtime',
  description:
    "Folder for what `npm start` keeps between runs: the embedded Postgres (pg/), the private Redis (redis/) and the sandbox's grants (sandbox-grants.json). Relative paths are taken from the repository root; git ignores the default.",
  schema: z
    .string()
    .trim()
    .min(1)
    .transform((dir) => (isAbsolute(dir) ? dir : resolve(REPOSITORY_ROOT, dir))),
  development: '.conduit',
  production: '.conduit',
});

export const CONDUIT_DATASTORE_WAIT_SECONDS = variable({
  name: 'CONDUIT_DATASTORE_WAIT_SECONDS',
  group: 'runtime',
  description:
    'How long an app (and `npm start`) waits at start for Postgres and Redis to answer; then it names the one that did not and exits non-zero instead of running half-connected.',
  schema: integer({ min: 1, max: 3_600, noun: 'a number of seconds', example: 20 }),
  development: '20',
  production: '60',
});

/** The scheduler's sweeps (the names of its BullMQ Job Schedulers). */
export const SCHEDULER_SWEEPS = [
  'refresh-sweep',
  'lapse-sweep',
  'sync-sweep',
  'recovery-sweep',
  'inbox-sweep',
  'webhook-sweep',
  'cleanup',
] as const;
export type SchedulerSweep = (typeof SCHEDULER_SWEEPS)[number];

export const CONDUIT_SCHEDULER_SWEEPS_OFF = optionalVariable({
  name: 'CONDUIT_SCHEDULER_SWEEPS_OFF',
  group: 'runtime',
  description: `Sweeps the scheduler does not run, comma-separated (${SCHEDULER_SWEEPS.join(', ')}): their Job Schedulers are removed at start and a job of theirs already queued is skipped. For benchmarks that measure one kind of work alone, and for incidents; give every scheduler process the same value. Unset runs them all.`,
  schema: namesFrom(SCHEDULER_SWEEPS, 'a sweep'),
});

export const runtimeVariables = [
  NODE_ENV,
  LOG_LEVEL,
  LOG_FORMAT,
  CONDUIT_DATA_DIR,
  CONDUIT_DATASTORE_WAIT_SECONDS,
  CONDUIT_SCHEDULER_SWEEPS_OFF,
];

export interface RuntimeConfig {
  readonly nodeEnv: NodeEnv;
  readonly isProduction: boolean;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Absolute. */
  readonly dataDir: string;
  readonly datastoreWaitSeconds: number;
  /** Sweeps the scheduler leaves off; empty: all of them run. */
  readonly sweepsOff: readonly SchedulerSweep[];
}

export function readRuntime(r: EnvReader): RuntimeConfig {
  return {
    nodeEnv: r.nodeEnv,
    isProduction: r.nodeEnv === 'production',
    logLevel: r.read(LOG_LEVEL),
    logFormat: r.read(LOG_FORMAT),
    dataDir: r.read(CONDUIT_DATA_DIR),
    datastoreWaitSeconds: r.read(CONDUIT_DATASTORE_WAIT_SECONDS),
    sweepsOff: r.read(CONDUIT_SCHEDULER_SWEEPS_OFF) ?? [],
  };
}
