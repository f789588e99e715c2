// A real Redis Cluster of a test's (or a benchmark's) own: one redis-server per port with
// cluster mode on, each in a temporary folder of its own, joined by `redis-cli --cluster create`
// with no replicas, so every port is a master holding a third of the slots. Nothing is kept on
// disk but the cluster's own nodes.conf, and stop() kills the servers and removes the folders.
// Each server also listens on its cluster bus port, port + 10000.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRedisServer } from './private-redis.ts';
import { killTree, runTracked } from './processes.ts';

export interface ClusterNode {
  readonly host: string;
  readonly port: number;
}

export interface PrivateRedisClusterOptions {
  /** how long the cluster may take to agree on its slots (cluster_state:ok on every node) */
  readyTimeoutMs?: number;
}

export class PrivateRedisCluster {
  private readonly children: ChildProcess[] = [];
  private dirs: string[] = [];

  constructor(
    /** one master per port; at least three, as `redis-cli --cluster create` requires */
    readonly ports: readonly number[],
    private readonly options: PrivateRedisClusterOptions = {},
  ) {
    if (ports.length < 3)
      throw new RangeError(`a Redis Cluster needs at least 3 masters, got ${ports.length} ports`);
  }

  get nodes(): ClusterNode[] {
    return this.ports.map((port) => ({ host: '127.0.0.1', port }));
  }

  /** the servers' pids while they run */
  get pids(): number[] {
    return this.children.map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** The value of REDIS_CLUSTER_NODES for this cluster. */
  get nodesSetting(): string {
    return this.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  }

  /** Starts every server, forms the cluster, and resolves once every node says cluster_state:ok. */
  async start(): Promise<void> {
    try {
      await Promise.all(this.ports.map((port) => this.startServer(port)));
      const create = await runTracked('redis-cli', [
        '--cluster',
        'create',
        ...this.nodes.map((n) => `${n.host}:${n.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      if (create.code !== 0)
        throw new Error(
          `redis-cli --cluster create exited with ${create.code}:\n${create.stdout}${create.stderr}`,
        );
      await this.waitUntilOk(this.options.readyTimeoutMs ?? 20_000);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Kills every server (SIGKILL) and removes their folders; safe to call more than once. */
  async stop(): Promise<void> {
    const children = this.children.splice(0);
    await Promise.all(children.map((c) => killTree(c)));
    const dirs = this.dirs;
    this.dirs = [];
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }

  /** Runs one redis-cli command against the node on `port` and returns what it printed. */
  async cli(port: number, ...args: string[]): Promise<string> {
    const out = await runTracked('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
    if (out.code !== 0)
      throw new Error(`redis-cli -p ${port} ${args.join(' ')}: ${out.stderr || out.stdout}`);
    return out.stdout.trim();
  }

  private async startServer(port: number): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), `conduit-redis-cluster-${port}-`));
    this.dirs.push(dir);
    await startRedisServer(
      port,
      [
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
        '--cluster-node-timeout',
        '5000',
      ],
      (child) => this.children.push(child),
    );
  }

  private async waitUntilOk(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const states = await Promise.all(this.ports.map((p) => this.cli(p, 'cluster', 'info')));
      if (states.every((s) => /cluster_state:ok/.test(s))) return;
      last = states.join('\n');
      if (Date.now() > deadline)
        throw new Error(
          `the Redis Cluster on ${this.ports.join(', ')} is not ok after ${timeoutMs} ms:\n${last}`,
        );
      await sleep(100);
    }
  }
}
