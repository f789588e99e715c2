// Exit codes and the one error type commands throw: its message is a plain sentence for the
// operator, printed as is on stderr.

/** 0 ok, 1 failure, 2 usage error, 78 bad configuration (sysexits.h EX_CONFIG). */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 78 } as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A bad argument or option value: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}
