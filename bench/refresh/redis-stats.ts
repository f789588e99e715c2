// Redis `INFO commandstats` and per-operation command counts. Redis counts a command a Lua script
// runs under that command's own name, so the sum of the calls is what the server executed,
// scripts' insides included; what clients sent is counted on their side (redis-sent.ts).

/** calls per command name (`cmdstat_set` → `set`; subcommands as `config|get`). */
export type CommandCounts = Record<string, number>;

export function parseCommandStats(info: string): CommandCounts {
  const out: CommandCounts = {};
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) out[m[1]!.toLowerCase()] = Number(m[2]);
  }
  return out;
}

/** after − before, per command; commands that did not move are left out. */
export function diffCounts(before: CommandCounts, after: CommandCounts): CommandCounts {
  const out: CommandCounts = {};
  for (const [name, n] of Object.entries(after)) {
    const d = n - (before[name] ?? 0);
    if (d !== 0) out[name] = d;
  }
  return out;
}

export function addCounts(...all: CommandCounts[]): CommandCounts {
  const out: CommandCounts = {};
  for (const counts of all) for (const [name, n] of Object.entries(counts)) out[name] = (out[name] ?? 0) + n;
  return out;
}

export function total(counts: CommandCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

export interface PerOperation {
  /** every command the server ran, those inside scripts included */
  executed: number;
  /** script invocations (EVAL, EVALSHA, FCALL) */
  scripts: number;
  /** the commands per operation, largest first, rounded to 0.01 (those under 0.01 left out) */
  byCommand: Record<string, number>;
}

export function perOperation(counts: CommandCounts, operations: number): PerOperation {
  const per = (n: number) => Math.round((n / operations) * 100) / 100;
  const scripts = Object.entries(counts)
    .filter(([name]) => SCRIPT_COMMANDS.has(name))
    .reduce((a, [, n]) => a + n, 0);
  const byCommand: Record<string, number> = {};
  for (const [name, n] of Object.entries(counts).sort((a, b) => b[1] - a[1])) {
    if (per(n) >= 0.01) byCommand[name] = per(n);
  }
  return { executed: per(total(counts)), scripts: per(scripts), byCommand };
}
