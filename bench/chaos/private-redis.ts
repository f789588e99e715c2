// A redis-server of the run's own, on a free port, keeping nothing on disk: restarting it loses
// every queue, lock and schedule, as a crashed production Redis without persistence would. The
// machine's shared Redis (6379) is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private exitHooked = false;
  /** quick restarts (the `redis-restart` class) */
  restarts = 0;
  /** long outages (the `redis-outage` class) */
  outages = 0;

  private constructor(readonly port: number) {}

  static async start(opts: { port?: number } = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(opts.port ?? (await freePort()));
    await redis.launch();
    return redis;
  }

  /** the redis-server's pid while it runs */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
      ],
      { stdio: 'ignore' },
    );
    child.once('error', (err) => console.error(`redis-server: ${err.message} (is redis-server installed?)`));
    this.child = child;
    if (!this.exitHooked) {
      this.exitHooked = true;
      process.once('exit', () => this.child?.kill('SIGKILL'));
    }
    const probe = new Redis(this.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      for (let i = 0; i < 100; i++) {
        if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
        try {
          await probe.connect();
          if ((await probe.ping()) === 'PONG') return;
        } catch {
          probe.disconnect();
        }
        await sleep(100);
      }
      throw new Error(`redis-server did not answer on port ${this.port} within 10 s`);
    } finally {
      probe.disconnect();
    }
  }

  /** Stops the server (SIGTERM, nothing saved) and starts it again on the same port after `downMs`. */
  async restart(downMs: number): Promise<void> {
    await this.stop();
    await sleep(downMs);
    await this.launch();
    this.restarts += 1;
  }

  /** The same, but counted as an outage: down long enough for every client to give up waiting. */
  async outage(downMs: number): Promise<void> {
    await this.stop();
    await sleep(downMs);
    await this.launch();
    this.outages += 1;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
