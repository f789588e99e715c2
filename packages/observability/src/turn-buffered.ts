// Log lines written to stdout once per event-loop turn. A refresh worker logs a line per refresh,
// and lines come in bursts (one grouped commit settles tens of refreshes at once): written one by
// one they cost a write each, and pino's asynchronous destination (sonic-boom) re-measures its
// growing buffer on every line, which flattens it, copying kilobytes per line. Here the lines of
// a turn are kept as they are and joined once, after the turn's I/O callbacks (setImmediate),
// into one synchronous write; so a line is out well within a millisecond of being logged, and
// what a crash can lose is bounded by one turn. The process's `exit` writes what is pending.
import { pino, type DestinationStream } from 'pino';

interface Sink {
  write(chunk: string): unknown;
}

export class TurnBufferedLines implements DestinationStream {
  #pending: string[] = [];
  #scheduled = false;

  constructor(private readonly sink: Sink) {}

  write(line: string): void {
    this.#pending.push(line);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.flushSync);
    }
  }

  /** Writes every pending line now (pino calls it from `logger.flush()`; `exit` does too). */
  readonly flushSync = (): void => {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const lines = this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join('');
    this.#pending = [];
    this.sink.write(lines);
  };

  /** pino's `logger.flush(cb)` */
  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    cb?.();
  }
}

let stdout: TurnBufferedLines | undefined;

/** The process's one turn-buffered stdout (every logger of the process shares it, as they share fd 1). */
export function stdoutLines(): TurnBufferedLines {
  if (!stdout) {
    // synchronous underneath: sonic-boom retries a full pipe (EAGAIN) rather than dropping lines
    const lines = new TurnBufferedLines(pino.destination({ dest: 1, sync: true }));
    process.once('exit', lines.flushSync);
    stdout = lines;
  }
  return stdout;
}
