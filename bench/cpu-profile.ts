// Where a process spent its CPU during one window of a benchmark, from the .cpuprofile that
// `node --cpu-prof` writes at exit: samples inside the window, self time grouped by the package
// of the frame on top of the stack (Prisma, pg, BullMQ, pino…), biggest first.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  category: string;
  percent: number;
}

const CATEGORIES: Array<[RegExp, string]> = [
  [/^wasm:\/\//, 'prisma query compiler (WebAssembly)'],
  [/node_modules\/(@prisma|\.prisma)\//, 'prisma client runtime and driver adapter'],
  [/node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+)\//, 'pg (Postgres wire protocol)'],
  [/node_modules\/bullmq\//, 'bullmq'],
  [/node_modules\/(ioredis|redis-parser|@ioredis)\//, 'ioredis'],
  [
    /node_modules\/(pino|@pinojs|pino-std-serializers|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|on-exit-leak-free)\//,
    'pino (logging)',
  ],
  [
    /node_modules\/(fastify|@fastify|find-my-way|light-my-request|avvio|fast-json-stringify|secure-json-parse|fast-querystring|content-type|toad-cache|process-warning)\//,
    'fastify',
  ],
  [/node_modules\/zod\//, 'zod (payload validation)'],
  [/node_modules\/prom-client\//, 'prom-client (metrics)'],
  [/\/(packages|apps)\/[^/]+\/src\//, 'conduit code'],
  [/node_modules\//, 'other npm packages'],
  [/^node:|^internal\//, 'node internals (http, net, crypto, streams)'],
];

function categoryOf(frame: ProfileNode['callFrame']): string {
  if (frame.url === '') {
    if (frame.functionName === '(garbage collector)') return 'garbage collection';
    if (frame.functionName === '(idle)') return 'idle';
    if (frame.functionName === '(program)') return 'V8/native (program)';
    if (/^write(v|Buffer|String|Utf8String|LatinString)?$/.test(frame.functionName))
      return 'native I/O writes (sockets, stdout)';
    return `native: ${frame.functionName || '(anonymous)'}`;
  }
  for (const [pattern, name] of CATEGORIES) if (pattern.test(frame.url)) return name;
  return 'other';
}

/**
 * The main thread's profile among those in `dir`: every thread (tsx's loader, worker threads)
 * writes its own, named CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile; the main thread is 0.
 */
export function readMainProfile(dir: string): CpuProfile {
  const main = readdirSync(dir).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (!main) throw new Error(`no main-thread .cpuprofile in ${dir}`);
  return JSON.parse(readFileSync(join(dir, main), 'utf8')) as CpuProfile;
}

/**
 * Self time by category over the wall-clock window [fromMs, toMs]. The profile's clock is
 * monotonic, so it is anchored at its end: `exitWallMs` is when the process was seen to exit.
 * Idle samples are left out: the shares are of busy time.
 */
export function summarizeWindow(
  profile: CpuProfile,
  window: { fromMs: number; toMs: number; exitWallMs: number },
  top = 10,
): { busyMs: number; shares: ProfileShare[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const offsetMs = window.exitWallMs - profile.endTime / 1000;
  const totals = new Map<string, number>();
  let t = profile.startTime;
  let busyUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    const wall = t / 1000 + offsetMs;
    if (wall < window.fromMs || wall > window.toMs) continue;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const category = categoryOf(node.callFrame);
    if (category === 'idle') continue;
    totals.set(category, (totals.get(category) ?? 0) + delta);
    busyUs += delta;
  }
  const shares = [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([category, us]) => ({ category, percent: Number(((100 * us) / Math.max(1, busyUs)).toFixed(1)) }));
  return { busyMs: Math.round(busyUs / 1000), shares };
}
