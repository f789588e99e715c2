// CPU starvation: one busy loop (`while :; do :; done`) per core, each in a process group of
// its own, at normal priority, so the apps, Postgres and Redis compete for every core. Stopped
// by the run, and also when the run exits any other way.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';

export class CpuHog {
  private readonly children: ChildProcess[] = [];
  private readonly onExit = () => this.stopNow();

  /** Starts `cores` busy loops (default: one per core). */
  static start(cores = cpus().length): CpuHog {
    const hog = new CpuHog();
    for (let i = 0; i < cores; i++) {
      hog.children.push(spawn('sh', ['-c', 'while :; do :; done'], { detached: true, stdio: 'ignore' }));
    }
    process.once('exit', hog.onExit);
    return hog;
  }

  get pids(): number[] {
    return this.children.flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  private stopNow(): void {
    for (const c of this.children) {
      if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) continue;
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** Kills every loop (its process group) and waits until each has exited. */
  async stop(): Promise<void> {
    process.removeListener('exit', this.onExit);
    const live = this.children.filter((c) => c.exitCode === null && c.signalCode === null);
    const exited = live.map((c) => new Promise((r) => c.once('exit', r)));
    this.stopNow();
    await Promise.all(exited);
  }
}
