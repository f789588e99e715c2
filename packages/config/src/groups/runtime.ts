import { oneOf } from '../kinds.ts';
import { NODE_ENVS, variable } from '../variable.ts';
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

export const runtimeVariables = [NODE_ENV, LOG_LEVEL, LOG_FORMAT];

export interface RuntimeConfig {
  readonly nodeEnv: NodeEnv;
  readonly isProduction: boolean;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
}

export function readRuntime(r: EnvReader): RuntimeConfig {
  return {
    nodeEnv: r.nodeEnv,
    isProduction: r.nodeEnv === 'production',
    logLevel: r.read(LOG_LEVEL),
    logFormat: r.read(LOG_FORMAT),
  };
}
