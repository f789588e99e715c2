// CPU time of processes from Linux /proc, for the benchmarks' per-operation CPU figures.
// A process's utime+stime covers all its threads; a parent's cutime+cstime covers the children it
// has reaped, so a process tree's CPU is the root's four fields plus each live descendant's own
// two: a child that exits in between moves from the second sum into the first.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  ppid: number;
  /** clock ticks */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/** One `/proc/<pid>/stat` line. The command name (field 2) may hold spaces and parentheses. */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${line.slice(0, 80)}`);
  const pid = Number(line.slice(0, open).trim());
  // after ") ": state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17)
  const f = line
    .slice(close + 2)
    .trim()
    .split(' ');
  const at = (field: number) => {
    const v = Number(f[field - 3]);
    if (!Number.isFinite(v)) throw new Error(`field ${field} of /proc/${pid}/stat is not a number`);
    return v;
  };
  return { pid, ppid: at(4), utime: at(14), stime: at(15), cutime: at(16), cstime: at(17) };
}

/** `VmRSS` of one `/proc/<pid>/status`, in kB (0 when absent: a zombie). */
export function parseVmRssKb(status: string): number {
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
}

/** Own CPU ticks of a process (all its threads); null once it is gone. */
export function ownTicks(stat: ProcStat): number {
  return stat.utime + stat.stime;
}

/** CPU ticks of a tree: the root with its reaped children, plus every live descendant's own. */
export function treeTicks(root: ProcStat, all: readonly ProcStat[]): number {
  const children = new Map<number, ProcStat[]>();
  for (const s of all) {
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  let total = root.utime + root.stime + root.cutime + root.cstime;
  const stack = [...(children.get(root.pid) ?? [])];
  for (let s = stack.pop(); s; s = stack.pop()) {
    total += s.utime + s.stime;
    stack.push(...(children.get(s.pid) ?? []));
  }
  return total;
}

export function readStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Every process's stat (those that exit while being read are left out). */
export function readAllStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

export function rssMb(pid: number): number {
  try {
    return parseVmRssKb(readFileSync(`/proc/${pid}/status`, 'utf8')) / 1024;
  } catch {
    return 0;
  }
}

/** USER_HZ: 100 on every Linux architecture Node runs on (sysconf(_SC_CLK_TCK)). */
export const TICKS_PER_SECOND = 100;

export interface ProcIo {
  /** read-like system calls (read, recvmsg, …) */
  syscr: number;
  /** write-like system calls (write, writev, sendmsg, …) */
  syscw: number;
}

/** `/proc/<pid>/io`: its system-call counts, for every thread of the process. */
export function parseProcIo(text: string): ProcIo {
  const field = (name: string) => {
    const v = Number(new RegExp(`^${name}:\\s+(\\d+)$`, 'm').exec(text)?.[1]);
    if (!Number.isFinite(v)) throw new Error(`no ${name} in /proc/<pid>/io`);
    return v;
  };
  return { syscr: field('syscr'), syscw: field('syscw') };
}

/** System calls of the processes so far (a process gone in between counts 0). */
export function readIo(pids: readonly number[]): ProcIo {
  const sum = { syscr: 0, syscw: 0 };
  for (const pid of pids) {
    try {
      const io = parseProcIo(readFileSync(`/proc/${pid}/io`, 'utf8'));
      sum.syscr += io.syscr;
      sum.syscw += io.syscw;
    } catch {
      // gone
    }
  }
  return sum;
}
