// `npm run bench -- sandbox [--seconds 10] [--connections 100] [--grants 50000] [--profile]`
// Token refreshes per second the provider sandbox serves on one core. The sandbox runs in a
// child process pinned to core 0 (taskset), the load generator (autocannon) here on the other
// cores. Requests alternate Google (no rotation, credentials in the body) and Discord (rotates
// every refresh, Basic auth); each is a valid refresh of a grant with nothing else in flight,
// using the refresh token the previous answer returned. The sandbox's own anomaly report must
// stay at zero: that proves the load was honest. Seeding the grants (2 × 50,000 by default, one
// control call each) is timed too.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { type ProviderKey, providerSpec } from '@conduit/core';

const ROOT = join(import.meta.dirname, '..');
const PROVIDERS_BENCHED = ['google', 'discord'] as const satisfies readonly ProviderKey[];

interface Slot {
  provider: (typeof PROVIDERS_BENCHED)[number];
  refreshToken: string;
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function startChild(pin: boolean, profileDir?: string): Promise<{ child: ChildProcess; url: string }> {
  const command = [
    process.execPath,
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    '--import',
    'tsx',
    join(ROOT, 'apps/sandbox/src/main.ts'),
  ];
  const [file, ...args] = pin ? ['taskset', '-c', '0', ...command] : command;
  const child = spawn(file!, args, {
    cwd: ROOT,
    env: { ...process.env, CONDUIT_SANDBOX_PORT: '0', CONDUIT_SANDBOX_FAULTS: '', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const parsed = JSON.parse(line) as { url?: string };
    if (parsed.url) return { child, url: parsed.url };
  }
  throw new Error('the sandbox exited before it was ready');
}

/** CPU seconds a process has used (Linux /proc; null elsewhere), at 100 ticks per second. */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

async function control<T>(url: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${url}/_sandbox${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export async function run(args: string[]): Promise<void> {
  const seconds = flag(args, 'seconds', 10);
  const connections = flag(args, 'connections', 100);
  const grantsPerProvider = flag(args, 'grants', 50_000);
  const pin = hasTaskset() && cpus().length > 1;
  if (pin)
    execFileSync('taskset', ['-a', '-p', '-c', `1-${cpus().length - 1}`, String(process.pid)], {
      stdio: 'ignore',
    });

  // --profile: the sandbox writes a V8 CPU profile to bench/results/profiles/ when it stops
  // (summarise it with `npx tsx bench/profile-summary.ts <file>`).
  const profileDir = args.includes('--profile') ? join(ROOT, 'bench/results/profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const { child, url } = await startChild(pin, profileDir);
  try {
    const slots: Slot[][] = [];
    const seedStarted = performance.now();
    for (const provider of PROVIDERS_BENCHED) {
      const { grants } = await control<{ grants: { refreshToken: string }[] }>(url, '/grants', {
        provider,
        count: grantsPerProvider,
      });
      slots.push(grants.map((g) => ({ provider, refreshToken: g.refreshToken })));
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    // Interleave the providers; a slot goes back in the queue only once its answer is in.
    const queue: Slot[] = [];
    for (let i = 0; i < grantsPerProvider; i++) for (const list of slots) queue.push(list[i]!);
    let head = 0;
    const done: Record<string, number> = Object.fromEntries(PROVIDERS_BENCHED.map((p) => [p, 0]));
    let failed = 0;

    // What does not change between requests is built once: the load generator shares its core
    // with nothing of the sandbox, and every microsecond it spends is a request the sandbox waits for.
    const wire = Object.fromEntries(
      PROVIDERS_BENCHED.map((p: ProviderKey) => {
        const spec = providerSpec(p);
        const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
        let credentials = '';
        if (spec.clientAuth === 'basic')
          headers.authorization = `Basic ${Buffer.from(`conduit-${p}:sandbox-secret-${p}`).toString('base64')}`;
        else credentials = `&client_id=conduit-${p}&client_secret=sandbox-secret-${p}`;
        return [p, { path: spec.sandboxPaths.tokenUrl, headers, credentials }];
      }),
    );
    const cpuBefore = cpuSeconds(child.pid);
    const clientBefore = process.cpuUsage();
    const result = await autocannon({
      url,
      connections,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          setupRequest: (request, context) => {
            if (head > 1 << 20) {
              queue.splice(0, head);
              head = 0;
            }
            const slot = queue[head++];
            if (!slot) throw new Error('ran out of grants: raise --grants');
            context.slot = slot;
            const w = wire[slot.provider]!;
            const body = `grant_type=refresh_token&refresh_token=${encodeURIComponent(slot.refreshToken)}${w.credentials}`;
            return { ...request, path: w.path, headers: w.headers, body };
          },
          onResponse: (status, body, context) => {
            const slot = context.slot as Slot;
            if (status !== 200) {
              failed += 1;
              return;
            }
            if (
              providerSpec(slot.provider).refresh.kind === 'refresh_token' &&
              body.includes('"refresh_token"')
            ) {
              slot.refreshToken = (JSON.parse(body) as { refresh_token: string }).refresh_token;
            }
            done[slot.provider] = (done[slot.provider] ?? 0) + 1;
            queue.push(slot);
          },
        },
      ],
    });

    const cpuAfter = cpuSeconds(child.pid);
    const client = process.cpuUsage(clientBefore);
    const clientCpuSeconds = (client.user + client.system) / 1e6;
    const serverCpuSeconds = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
    const report = (await (await fetch(`${url}/_sandbox/report`)).json()) as { anomalies: number };
    const total = Object.values(done).reduce((a, b) => a + b, 0);
    const refreshesPerSecond = Math.round(total / result.duration);
    const summary = {
      refreshesPerSecond,
      seconds: Number(result.duration.toFixed(2)),
      connections,
      providers: PROVIDERS_BENCHED,
      perProvider: Object.fromEntries(
        Object.entries(done).map(([p, n]) => [p, Math.round(n / result.duration)]),
      ),
      refreshes: total,
      // The server's own cost: when the load generator is the bottleneck, this is its capacity per core.
      serverCpuSeconds: serverCpuSeconds === null ? null : Number(serverCpuSeconds.toFixed(2)),
      refreshesPerServerCpuSecond: serverCpuSeconds ? Math.round(total / serverCpuSeconds) : null,
      // Share of the run each side kept its core busy: a server well under 1 with a load
      // generator near 1 means the load generator bounded refreshesPerSecond, not the sandbox.
      serverBusy: serverCpuSeconds === null ? null : Number((serverCpuSeconds / result.duration).toFixed(2)),
      loadGeneratorBusy: Number((clientCpuSeconds / result.duration).toFixed(2)),
      failed: failed + result.errors + result.timeouts,
      latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
      anomalies: report.anomalies,
      seededGrants: grantsPerProvider * PROVIDERS_BENCHED.length,
      seedSeconds: Number(seedSeconds.toFixed(2)),
      pinnedToOneCore: pin,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      node: process.version,
      date: new Date().toISOString(),
    };
    writeFileSync(join(ROOT, 'bench/results/sandbox.json'), `${JSON.stringify(summary, null, 2)}\n`);
    console.log(
      `sandbox: ${refreshesPerSecond} refreshes/s (${summary.refreshesPerServerCpuSecond ?? '?'} per server CPU-second; ${Object.entries(
        summary.perProvider,
      )
        .map(([p, n]) => `${p} ${n}/s`)
        .join(
          ', ',
        )}) over ${summary.seconds} s, ${connections} connections, ${pin ? 'server pinned to core 0' : 'not pinned'}; busy: server ${summary.serverBusy ?? '?'}, load generator ${summary.loadGeneratorBusy}; failed ${summary.failed}, anomalies ${report.anomalies}; p99 ${result.latency.p99} ms; seeded ${summary.seededGrants} grants in ${summary.seedSeconds} s → bench/results/sandbox.json`,
    );
    if (summary.serverBusy !== null && summary.serverBusy < 0.8)
      console.log(
        `the sandbox was busy ${Math.round(summary.serverBusy * 100)}% of the run: the load generator (or the machine) bounded refreshesPerSecond; one core's capacity is refreshesPerServerCpuSecond`,
      );
    if (summary.failed > 0 || report.anomalies > 0) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}
