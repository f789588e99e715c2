// A redis-server of one test's own, on a port of its range, keeping nothing on disk, for faults
// (kill it, start it again on the same port). The machine's shared Redis is never touched.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { killTree, spawnTracked } from './processes.ts';

export class PrivateRedis {
  private child: ChildProcess | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server and resolves once it accepts connections. */
  async start(): Promise<void> {
    const child = spawnTracked(
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
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
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
        reject(new Error(`redis-server on port ${this.port} exited with code ${code}:\n${output}`)),
      );
    });
    try {
      await ready;
    } finally {
      lines.close();
      child.stdout!.resume();
    }
  }

  /** Kills the server outright (SIGKILL, as a crash) and resolves once it is gone and its port free. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    await killTree(child);
  }
}
