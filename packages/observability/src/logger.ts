import { pino } from 'pino';
import type { DestinationStream, LevelWithSilent, Logger, LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import { HEADER_PATHS, REDACTED, redactSecrets } from './redact.ts';
import { stdoutLines } from './turn-buffered.ts';
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
  // the error serializer's output is walked too: an error's own properties (a provider's response) may hold tokens
  const serializers: NonNullable<LoggerOptions['serializers']> = {
    err: (err: unknown) => redactSecrets(pino.stdSerializers.err(err as Error), 1),
  };
  const hasher = options.userIdHasher;
  if (hasher !== undefined) {
    const hash = (id: unknown) => (typeof id === 'string' ? hasher(id) : REDACTED);
    serializers.userId = hash;
    serializers.ownerId = hash;
  }
  const base: LoggerOptions = {
    name: options.name,
    level: options.level,
    redact: { paths: [...HEADER_PATHS], censor: REDACTED },
    serializers,
  };
  const redacting = {
    // `err` is left to its serializer above, which must see the Error itself
    log: (obj: Record<string, unknown>) => {
      if (obj.err === undefined) return redactSecrets(obj);
      const { err, ...rest } = obj;
      const clean = redactSecrets(rest);
      return clean === rest ? obj : { ...clean, err };
    },
  };
  if (options.format === 'pretty') {
    const colorize = options.colorize ?? (options.destination === undefined && pretty.isColorSupported);
    return redactingChildren(
      pino(
        { ...base, formatters: redacting },
        prettyStream(options.destination ?? pino.destination({ dest: 1, sync: true }), colorize),
      ),
    );
  }
  return redactingChildren(
    pino(
      {
        ...base,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { ...redacting, level: (label) => ({ level: label }) },
      },
      options.destination ?? stdoutLines(),
    ),
  );
}

/**
 * A child's bindings are serialised once, when it is made, and pino applies no formatter to them:
 * they are walked here. Every descendant inherits this `child` from the root.
 */
function redactingChildren(root: Logger): Logger {
  const child = root.child;
  root.child = function (this: Logger, bindings, options) {
    return child.call(this, redactSecrets(bindings), options);
  } as Logger['child'];
  return root;
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
