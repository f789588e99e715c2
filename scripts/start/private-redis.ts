// A private redis-server child, for a machine whose Redis is not running. No npm package ships a
// Redis binary, so this needs `redis-server` on PATH; without it, `npm start` says how to get one.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { portAnswers } from './probe.ts';

export interface PrivateRedis {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export function redisServerOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export const INSTALL_REDIS =
  'install Redis (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) or run `docker compose up -d redis`, then npm start again; or set REDIS_URL to a Redis you have';

export async function startPrivateRedis(options: {
  port: number;
  dir: string;
  timeoutMs?: number;
}): Promise<PrivateRedis> {
  mkdirSync(options.dir, { recursive: true });
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(options.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      options.dir,
      '--save',
      '',
      '--appendonly',
      'no',
      // BullMQ needs noeviction: an evicted job key is a lost job.
      '--maxmemory-policy',
      'noeviction',
      '--pidfile',
      join(options.dir, 'redis.pid'),
    ],
    // Its own process group, so Ctrl-C stops the apps before their Redis.
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (!(await portAnswers(options.port))) {
    if (child.exitCode !== null)
      throw new Error(`redis-server exited (code ${child.exitCode}): ${stderr.trim()}`);
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${options.port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  let stopping: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${options.port}`,
    pid: child.pid!,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      })),
  };
}
