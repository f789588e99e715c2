// The CLI's own output: results on stdout, messages and progress on stderr. The only module
// that writes to the terminal, so tests can capture everything by passing their own writers.

export interface OutputWriters {
  out(text: string): void;
  err(text: string): void;
  /** stderr when it is a terminal a progress bar may redraw; undefined otherwise */
  tty?: NodeJS.WriteStream | undefined;
  /** characters per stdout line (the terminal's width); tables fit it. Unset: no limit */
  width?: number | undefined;
}

export class Output {
  constructor(private readonly writers: OutputWriters) {}

  /** The terminal stream for redrawing progress bars, if there is one. */
  get tty(): NodeJS.WriteStream | undefined {
    return this.writers.tty;
  }

  /** The width tables must fit, if stdout is a terminal (or COLUMNS says so). */
  get width(): number | undefined {
    return this.writers.width;
  }

  /** A line of the command's result. */
  line(text = ''): void {
    this.writers.out(`${text}\n`);
  }

  json(value: unknown): void {
    this.writers.out(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A note for the operator (progress, warnings), kept off stdout so results stay parseable. */
  note(text: string): void {
    this.writers.err(`${text}\n`);
  }

  /** What went wrong, as one sentence. */
  error(text: string): void {
    this.writers.err(`conduit: ${text}\n`);
  }

  /** Unformatted text, for commander's help and messages. */
  rawOut(text: string): void {
    this.writers.out(text);
  }

  rawErr(text: string): void {
    this.writers.err(text);
  }
}

export function processOutput(): Output {
  return new Output({
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    tty: process.stderr.isTTY ? process.stderr : undefined,
    width: process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS) || undefined,
  });
}
