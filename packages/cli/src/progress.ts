// Progress of a long command: a redrawing bar on a terminal (cli-progress), plain lines on
// stderr otherwise (CI logs, pipes, a test watching the output) — one per 5 %, at most one a
// second between those, and a last one at the end.
import { Presets, SingleBar } from 'cli-progress';
import type { Output } from './output.ts';

export interface Progress {
  increment(n: number): void;
  stop(): void;
}

export function createProgress(output: Output, label: string, total: number, unit: string): Progress {
  const tty = output.tty;
  if (tty) {
    const bar = new SingleBar(
      {
        stream: tty,
        format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0);
    return { increment: (n) => bar.increment(n), stop: () => bar.stop() };
  }
  let done = 0;
  let lastStep = -1;
  let lastAt = 0;
  const print = () => {
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    output.note(`${label}: ${done}/${total} ${unit} (${pct}%)`);
    lastStep = Math.floor(pct / 5);
    lastAt = Date.now();
  };
  return {
    increment(n) {
      done += n;
      const pct = total === 0 ? 100 : (done / total) * 100;
      if (Math.floor(pct / 5) > lastStep || Date.now() - lastAt >= 1_000) print();
    },
    stop() {
      if (lastStep < 20) print();
    },
  };
}
