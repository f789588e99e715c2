// The burst protocol of the benchmark's measuring children (floor-child.ts, rules-floor-child.ts):
// each `go <count>` line on stdin runs the next `count` items (all that are left without a
// count) and answers with a `{"burst":true,…}` line; stdin's end returns.
import { createInterface } from 'node:readline';

export async function serveBursts<T>(
  items: readonly T[],
  from: number,
  run: (list: T[]) => Promise<{ ok: number; failed: number }>,
): Promise<void> {
  let at = from;
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const count = Number(line.split(' ')[1] ?? items.length);
    const burst = items.slice(at, at + count);
    at += burst.length;
    const started = performance.now();
    const { ok, failed } = await run(burst);
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`${JSON.stringify({ burst: true, ok, failed, seconds, left: items.length - at })}\n`);
  }
}
