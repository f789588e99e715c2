import { pino } from 'pino';
import type { DestinationStream, LevelWithSilent, Logger, LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import { REDACT_PATHS, REDACTED } from './redact.ts';
import type { UserIdHasher } from './user-id-hasher.ts';

export type { Logger } from 'pino';
export type LogFormat = 'json' | 'pretty';

export interface CreateLoggerOptions {
  readonly level: LevelWithSilent;
  readonly format: LogFormat;
  /** The app or component, e.g. "worker"; every line carries it. */
  readonly name: string;
  /** Where lines go; stdout by default. Tests pass a stream to capture them. */
  readonly destination?: DestinationStream;
  /** Colours in pretty format; by default when writing to a colour terminal. */
  readonly colorize?: boolean;
  /** With it, `userId` and `ownerId` fields are logged hashed, in case a raw id is passed by mistake. */
  readonly userIdHasher?: UserIdHasher;
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const serializers: LoggerOptions['serializers'] = {};
  const hasher = options.userIdHasher;
  if (hasher !== undefined) {
    const hash = (id: unknown) => (typeof id === 'string' ? hasher(id) : REDACTED);
    serializers.userId = hash;
    serializers.ownerId = hash;
  }
  const base: LoggerOptions = {
    name: options.name,
    level: options.level,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers,
  };
  if (options.format === 'pretty') {
    const colorize = options.colorize ?? (options.destination === undefined && pretty.isColorSupported);
    return pino(
      base,
      prettyStream(options.destination ?? pino.destination({ dest: 1, sync: true }), colorize),
    );
  }
  return pino(
    {
      ...base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination(1),
  );
}

/**
 * pino-pretty's formatter on the calling thread, rather than its transform stream or a
 * worker transport: a line is written before `log.info()` returns, so tests can read it at once.
 * One line per entry (`singleLine`), fields after the message: a terminal shows one line per
 * HTTP request rather than one per field.
 */
function prettyStream(out: DestinationStream, colorize: boolean): DestinationStream {
  const format = pretty.prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  return { write: (line: string) => out.write(format(line)) };
}
