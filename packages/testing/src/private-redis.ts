// A redis-server of one test's (or the chaos run's) own, on a port of its range, keeping nothing
// on disk, for faults: kill it (a crash), stop it, hang it (SIGSTOP: the port still accepts
// connections, nothing answers), start it again on the same port, empty. The machine's shared
// Redis is never touched. It leads a process group of its own that dies with the test process.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.ts';
import { killTree, signalGroup, spawnTracked } from './processes.ts';

/** How long a SIGTERM may take before the server is killed outright. */
const STOP_GRACE_MS = 5_000;

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private hung = false;
  /** restarts done through {@link restart} */
  restarts = 0;

  constructor(readonly port: number) {}

  /** A started server on a port the OS picked: for runs without a fixed port range. */
  static async onFreePort(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** the redis-server's pid while it runs */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server and resolves once it accepts connections. */
  async start(): Promise<void> {
    this.hung = false;
    this.child = await startRedisServer(this.port, [], (child) => (this.child = child));
  }

  /** The process is running (perhaps hung). */
  alive(): boolean {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** SIGSTOP: connections are accepted by the kernel, nothing answers. */
  hang(): void {
    if (!this.alive()) return;
    signalGroup(this.child!, 'SIGSTOP');
    this.hung = true;
  }

  resume(): void {
    if (!this.alive()) return;
    signalGroup(this.child!, 'SIGCONT');
    this.hung = false;
  }

  /** Kills the server outright (SIGKILL, as a crash) and resolves once it is gone and its port free. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.hung = false;
    await killTree(child);
  }

  /** SIGTERM (nothing is saved), SIGKILL if it takes longer than a few seconds; resolves once it is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive()) return this.kill();
    if (this.hung) this.resume();
    const force = setTimeout(() => void this.kill(), STOP_GRACE_MS);
    try {
      await killTree(child, 'SIGTERM');
    } finally {
      clearTimeout(force);
    }
    await this.kill();
  }

  /** Stops it, stays down `downMs`, starts a fresh, empty server on the same port. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await sleep(downMs);
    await this.start();
    this.restarts += 1;
  }
}

/**
 * Spawns a redis-server on `port` that keeps nothing on disk (plus `extraArgs`), as a tracked
 * process group, and resolves with it once it accepts connections. `onSpawn` gets the child at
 * once, so a caller can kill it even if it never becomes ready.
 */
export async function startRedisServer(
  port: number,
  extraArgs: readonly string[] = [],
  onSpawn?: (child: ChildProcess) => void,
): Promise<ChildProcess> {
  const child = spawnTracked(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      ...extraArgs,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  onSpawn?.(child);
  let output = '';
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      output += `${line}\n`;
      if (line.includes('Ready to accept connections')) resolve();
    });
    child.once('error', (err) =>
      reject(new Error(`redis-server: ${err.message} (is redis-server installed?)`)),
    );
    child.once('exit', (code) =>
      reject(new Error(`redis-server on port ${port} exited with code ${code}:\n${output}`)),
    );
  });
  try {
    await ready;
  } finally {
    lines.close();
    child.stdout!.resume();
    child.stderr!.resume();
  }
  return child;
}
