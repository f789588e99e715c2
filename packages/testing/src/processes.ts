// Processes a test starts are killed with everything they started, however the test ends.
// Killing only the child is not enough: `tsx main.ts` runs main.ts in a grandchild, and a
// SIGKILLed wrapper cannot pass the signal on, so the app lives on as an orphan. Each child is
// therefore the leader of a process group of its own, and the whole group is killed.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

const tracked = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Sends `signal` to the child's whole process group, without waiting (SIGSTOP, SIGCONT). */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (err) {
    // ESRCH: the group is gone already.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * The last resort when an afterAll never ran: the test process exits (a hook timed out, the file
 * threw at load) or is interrupted. A detached group no longer gets the terminal's Ctrl-C, so on
 * a signal the groups are killed first and the signal is then raised again as if unhandled.
 */
function installLastResort(): void {
  const killAll = () => {
    for (const c of tracked) signalGroup(c, 'SIGKILL');
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/**
 * `spawn`, as the leader of a new process group that {@link killTree} (or the test process
 * exiting) kills as a whole. Send graceful signals (SIGTERM to test a shutdown) with
 * `child.kill()`: they go to the leader alone, which for tsx relays them once.
 */
export function spawnTracked(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  tracked.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    installLastResort();
  }
  return child;
}

/**
 * SIGKILLs (or sends `signal` to) the child's whole process group and resolves once the child
 * itself has exited. Safe to call on a child that is gone, and more than once.
 */
export async function killTree(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<void> {
  if (!child || child.pid === undefined) return;
  const exited = child.exitCode !== null || child.signalCode !== null ? undefined : once(child, 'exit');
  signalGroup(child, signal);
  if (signal === 'SIGKILL') tracked.delete(child);
  await exited;
}

/** Kills every group {@link spawnTracked} started in this test process; for `afterAll`. */
export async function killAllTracked(): Promise<void> {
  await Promise.all([...tracked].map((c) => killTree(c)));
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end as a tracked process group and collects what it wrote. */
export function runTracked(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      // The command is done; whatever it left running in its group is not.
      void killTree(child).then(() => resolve({ code, signal, stdout, stderr }), reject);
    });
  });
}
