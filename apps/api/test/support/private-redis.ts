// A Redis of the test's own, to stop, hang (SIGSTOP) and start again without touching the
// machine's shared one. Spawned in a process group of its own; kill() ends the group.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGSTOP: the port still accepts connections, nothing answers */
  hang(): void;
  resume(): void;
  /** SIGKILL: connections refused */
  kill(): Promise<void>;
  /** a fresh, empty server on the same port (after kill) */
  restart(): Promise<void>;
  /** the process is running (perhaps hung) */
  alive(): boolean;
  /** resumes and ends it, whatever state it is in */
  stop(): Promise<void>;
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`private redis: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startPrivateRedis(port: number): Promise<PrivateRedis> {
  let child: ChildProcess | undefined;
  let stopped = false;

  // Last resort, should a teardown never get to stop(): the group dies with the test process.
  const onExit = () => {
    if (child?.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', onExit);

  async function start(): Promise<void> {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        detached: true,
        stdio: 'ignore',
      },
    );
    await until(() => reachable(port), `port ${port} to accept connections`);
  }

  function signal(sig: NodeJS.Signals): void {
    if (child?.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    }
  }

  async function kill(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    signal('SIGCONT');
    signal('SIGKILL');
    await exited;
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    hang: () => {
      signal('SIGSTOP');
      stopped = true;
    },
    resume: () => {
      signal('SIGCONT');
      stopped = false;
    },
    kill,
    alive: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    restart: async () => {
      await kill();
      await start();
    },
    stop: async () => {
      if (stopped) signal('SIGCONT');
      await kill();
      process.off('exit', onExit);
    },
  };
}
