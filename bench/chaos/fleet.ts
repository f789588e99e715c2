// The real apps as separate processes — api, scheduler and K workers — each logging (JSON lines)
// to a file of its own in the run's directory. Workers can be SIGKILLed and restarted in place,
// or SIGSTOPped and continued. An app that exits on its own (say, at a start during a datastore
// outage) is started again a second later, as a supervisor (systemd, Kubernetes) would.
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

/**
 * Resolves once `logFile` has, after `offset()`, a line matching `pattern` (both re-read each
 * time: a supervised restart moves them); fails when time runs out.
 */
async function waitForLog(
  logFile: string,
  offset: () => number,
  pattern: RegExp,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(readFrom(logFile, offset()))) return;
    await sleep(200);
  }
  throw new Error(`${logFile}: not ready within ${timeoutMs / 1000} s`);
}

const RESTART_AFTER_MS = 1_000;

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
  /** each SIGSTOPped worker process's User-Agent → the epoch-ms spans it was stopped for (`toMs` open while it is) */
  readonly stoppedAgents = new Map<string, Array<{ fromMs: number; toMs: number }>>();
  private started = 0;
  /** processes this run stopped on purpose: their exit is not restarted */
  private readonly meant = new WeakSet<ChildProcess>();
  /** exits nobody asked for (each restarted by the fleet's supervision) */
  unexpectedExits = 0;
  private shuttingDown = false;
  /** workers SIGSTOPped right now (slot numbers) */
  readonly frozen = new Set<number>();
  /** while set, the SIGKILL loop leaves the workers alone (a frozen worker's peer is the only live one) */
  killsPaused = false;
  private schedulerOffset = 0;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly logDir: string,
    private readonly workerCount: number,
  ) {
    // However the run ends, no app outlives it (SIGKILL also ends a SIGSTOPped process).
    process.once('exit', () => {
      this.shuttingDown = true;
      for (const c of [this.api, this.scheduler, ...this.workers])
        if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
  }

  private workerLog(i: number): string {
    return join(this.logDir, `worker-${i}.log`);
  }

  private launchWorker(i: number): ChildProcess {
    this.started += 1;
    const agent = `Conduit-chaos/worker-${i}.${this.started}`;
    this.workerAgents[i] = agent;
    const child = launch(
      'apps/worker/src/main.ts',
      { ...this.env, CONDUIT_USER_AGENT: agent },
      this.workerLog(i),
    );
    this.supervise(child, `worker ${i}`, () => {
      // a SIGKILL round may have replaced the dead process already: never orphan its successor
      if (this.workers[i] !== child) return;
      this.workerOffsets[i] = sizeOf(this.workerLog(i));
      this.workers[i] = this.launchWorker(i);
    });
    return child;
  }

  private launchApi(): ChildProcess {
    const child = launch(
      'apps/api/src/main.ts',
      { ...this.env, CONDUIT_USER_AGENT: 'Conduit-chaos/api' },
      join(this.logDir, 'api.log'),
    );
    this.supervise(child, 'api', () => {
      if (this.api === child) this.api = this.launchApi();
    });
    return child;
  }

  private launchScheduler(): ChildProcess {
    const log = join(this.logDir, 'scheduler.log');
    const child = launch(
      'apps/scheduler/src/main.ts',
      { ...this.env, CONDUIT_USER_AGENT: 'Conduit-chaos/scheduler' },
      log,
    );
    this.supervise(child, 'scheduler', () => {
      if (this.scheduler !== child) return;
      this.schedulerOffset = sizeOf(log);
      this.scheduler = this.launchScheduler();
    });
    return child;
  }

  /** An exit nobody asked for is noted and the app started again a second later. */
  private supervise(child: ChildProcess, name: string, relaunch: () => void): void {
    child.once('exit', (code, signal) => {
      if (this.meant.has(child) || this.shuttingDown) return;
      this.unexpectedExits += 1;
      this.events.push({
        at: Date.now(),
        what: `${name} (pid ${child.pid}) exited on its own (${signal ?? `code ${code}`}); starting it again in ${RESTART_AFTER_MS / 1000} s`,
      });
      setTimeout(() => {
        if (!this.shuttingDown) relaunch();
      }, RESTART_AFTER_MS);
    });
  }

  /** Starts every app and waits until each says it is ready (the api: /healthz answers). */
  async start(apiUrl: string): Promise<void> {
    this.api = this.launchApi();
    this.scheduler = this.launchScheduler();
    for (let i = 0; i < this.workerCount; i++) {
      this.workerOffsets.push(0);
      this.workers.push(this.launchWorker(i));
    }
    await Promise.all([
      waitForLog(join(this.logDir, 'scheduler.log'), () => this.schedulerOffset, READY, 90_000),
      this.workersReady(90_000),
      this.waitHealthy(apiUrl),
    ]);
  }

  private async waitHealthy(apiUrl: string): Promise<void> {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
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
    // a victim that already died on its own is replaced here; its supervised restart stands down
    this.meant.add(victim);
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
      this.workers.map((_, i) =>
        waitForLog(this.workerLog(i), () => this.workerOffsets[i]!, READY, timeoutMs),
      ),
    );
  }

  /** SIGSTOP: worker i freezes mid-whatever (no timer, no I/O) and holds its leases and sockets. */
  freeze(i: number): number {
    const w = this.workers[i]!;
    w.kill('SIGSTOP');
    this.frozen.add(i);
    const agent = this.workerAgents[i]!;
    const spans = this.stoppedAgents.get(agent) ?? [];
    spans.push({ fromMs: Date.now(), toMs: Number.POSITIVE_INFINITY });
    this.stoppedAgents.set(agent, spans);
    this.events.push({
      at: Date.now(),
      what: `worker ${i} (pid ${w.pid}, ${this.workerAgents[i]}) SIGSTOPped`,
    });
    return w.pid!;
  }

  /** SIGCONT: the frozen worker runs again, its timers all overdue at once. */
  thaw(i: number): void {
    const w = this.workers[i]!;
    w.kill('SIGCONT');
    this.frozen.delete(i);
    const open = this.stoppedAgents.get(this.workerAgents[i]!)?.at(-1);
    if (open && open.toMs === Number.POSITIVE_INFINITY) open.toMs = Date.now();
    this.events.push({ at: Date.now(), what: `worker ${i} (pid ${w.pid}) SIGCONTed` });
  }

  private thawAll(): void {
    for (const i of [...this.frozen]) this.thaw(i);
  }

  /** SIGTERM: the scheduler and workers stop taking work and finish what they hold. */
  async quiesce(): Promise<void> {
    this.shuttingDown = true;
    this.thawAll();
    const all = [this.scheduler, ...this.workers];
    for (const c of all) this.meant.add(c);
    await Promise.all(all.map((c) => stop(c)));
  }

  async killAll(): Promise<void> {
    this.shuttingDown = true;
    this.thawAll();
    const all = [this.api, this.scheduler, ...this.workers].filter(Boolean);
    for (const c of all) this.meant.add(c);
    await Promise.all(all.map((c) => stop(c, 'SIGKILL')));
  }
}
