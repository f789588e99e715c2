// The real apps as separate processes — api, scheduler and K workers — each logging (JSON lines)
// to a file of its own in the run's directory. Workers can be SIGKILLed and restarted in place.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeTs, ROOT, stop } from '../support.ts';

export interface FleetEvent {
  at: number;
  what: string;
}

function launch(entry: string, env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const [cmd, args] = nodeTs(entry);
  const fd = openSync(logFile, 'a');
  try {
    return spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The text of `file` from byte `offset` on (at most 4 MB of it). */
function readFrom(file: string, offset: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const buf = Buffer.alloc(Math.min(4 << 20, Math.max(0, sizeOf(file) - offset)));
    const n = readSync(fd, buf, 0, buf.length, offset);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Resolves once `logFile` has, after `offset`, a line matching `pattern`; fails if the process exits or time runs out. */
async function waitForLog(
  logFile: string,
  offset: number,
  pattern: RegExp,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(readFrom(logFile, offset))) return;
    if (child.exitCode !== null)
      throw new Error(`${logFile}: the process exited (${child.exitCode}) before it was ready`);
    await sleep(200);
  }
  throw new Error(`${logFile}: not ready within ${timeoutMs / 1000} s`);
}

const READY = /"msg":"(worker|scheduler|api) ready"/;

export class Fleet {
  readonly workers: ChildProcess[] = [];
  /** where each worker's current process began writing its log */
  private readonly workerOffsets: number[] = [];
  readonly events: FleetEvent[] = [];
  api!: ChildProcess;
  scheduler!: ChildProcess;
  kills = 0;
  /**
   * The User-Agent of every worker process ever started (`Conduit-chaos/worker-<slot>.<n>`, unique
   * per process), and when each SIGKILLed one was killed. The sandbox remembers which User-Agent
   * received a grant's newest tokens, so a lost token can be traced to the process that held it.
   */
  readonly workerAgents: string[] = [];
  readonly killedAgents = new Map<string, number>();
  private started = 0;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly logDir: string,
    private readonly workerCount: number,
  ) {}

  private workerLog(i: number): string {
    return join(this.logDir, `worker-${i}.log`);
  }

  private launchWorker(i: number): ChildProcess {
    this.started += 1;
    const agent = `Conduit-chaos/worker-${i}.${this.started}`;
    this.workerAgents[i] = agent;
    return launch('apps/worker/src/main.ts', { ...this.env, CONDUIT_USER_AGENT: agent }, this.workerLog(i));
  }

  /** Starts every app and waits until each says it is ready (the api: /healthz answers). */
  async start(apiUrl: string): Promise<void> {
    this.api = launch(
      'apps/api/src/main.ts',
      { ...this.env, CONDUIT_USER_AGENT: 'Conduit-chaos/api' },
      join(this.logDir, 'api.log'),
    );
    this.scheduler = launch(
      'apps/scheduler/src/main.ts',
      { ...this.env, CONDUIT_USER_AGENT: 'Conduit-chaos/scheduler' },
      join(this.logDir, 'scheduler.log'),
    );
    for (let i = 0; i < this.workerCount; i++) {
      this.workerOffsets.push(0);
      this.workers.push(this.launchWorker(i));
    }
    await Promise.all([
      waitForLog(join(this.logDir, 'scheduler.log'), 0, READY, this.scheduler, 90_000),
      this.workersReady(90_000),
      this.waitHealthy(apiUrl),
    ]);
  }

  private async waitHealthy(apiUrl: string): Promise<void> {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (this.api.exitCode !== null)
        throw new Error(`the api exited (${this.api.exitCode}); see ${this.logDir}/api.log`);
      try {
        if ((await fetch(`${apiUrl}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error('the api did not answer /healthz within 90 s');
  }

  /** SIGKILLs worker i (no chance to finish or release anything) and starts a new one at once. */
  async killAndRestartWorker(i: number): Promise<void> {
    const victim = this.workers[i]!;
    const at = Date.now();
    await stop(victim, 'SIGKILL');
    this.kills += 1;
    this.killedAgents.set(this.workerAgents[i]!, at);
    this.events.push({ at, what: `worker ${i} (pid ${victim.pid}, ${this.workerAgents[i]}) SIGKILLed` });
    this.workerOffsets[i] = sizeOf(this.workerLog(i));
    this.workers[i] = this.launchWorker(i);
  }

  /** Waits until every worker's current process has said it is ready. */
  async workersReady(timeoutMs: number): Promise<void> {
    await Promise.all(
      this.workers.map((w, i) => waitForLog(this.workerLog(i), this.workerOffsets[i]!, READY, w, timeoutMs)),
    );
  }

  /** SIGTERM: the scheduler and workers stop taking work and finish what they hold. */
  async quiesce(): Promise<void> {
    await Promise.all([this.scheduler, ...this.workers].map((c) => stop(c)));
  }

  async killAll(): Promise<void> {
    await Promise.all(
      [this.api, this.scheduler, ...this.workers].filter(Boolean).map((c) => stop(c, 'SIGKILL')),
    );
  }
}
