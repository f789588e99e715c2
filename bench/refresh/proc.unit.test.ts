import { describe, expect, it } from 'vitest';
import { parseProcIo, parseProcStat, parseVmRssKb, treeTicks, type ProcStat } from './proc.ts';

// A real line's shape (fields 1–22), the command name holding a space and a parenthesis.
const line = (pid: number, comm: string, ppid: number, u: number, s: number, cu = 0, cs = 0) =>
  `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 1200 0 3 0 ${u} ${s} ${cu} ${cs} 20 0 11 0 5000 123456789 30000`;

describe('parseProcStat', () => {
  it('reads pid, ppid, utime, stime, cutime and cstime, whatever the command name holds', () => {
    expect(parseProcStat(line(4242, 'postgres: walwriter (x) ', 17, 1234, 56, 7, 8))).toEqual({
      pid: 4242,
      ppid: 17,
      utime: 1234,
      stime: 56,
      cutime: 7,
      cstime: 8,
    });
  });

  it('refuses what is not a stat line', () => {
    expect(() => parseProcStat('hello')).toThrow(/not a \/proc/);
    expect(() => parseProcStat('12 (node) S 1 2')).toThrow(/field 14/);
  });
});

describe('treeTicks', () => {
  const stats: ProcStat[] = [
    parseProcStat(line(10, 'postgres', 1, 100, 20, 300, 40)), // root, with reaped children's 340
    parseProcStat(line(11, 'postgres: checkpointer', 10, 5, 5)),
    parseProcStat(line(12, 'postgres: postgres db 127.0.0.1(5) idle', 10, 50, 10)),
    parseProcStat(line(13, 'grandchild', 12, 1, 1)),
    parseProcStat(line(20, 'unrelated', 1, 999, 999)),
  ];

  it('sums the root with its reaped children and every live descendant, nothing else', () => {
    expect(treeTicks(stats[0]!, stats)).toBe(100 + 20 + 300 + 40 + 10 + 60 + 2);
  });

  it('a backend that exited between two readings moves into the root and is counted once', () => {
    const before = treeTicks(stats[0]!, stats);
    // pid 12 used 15 more ticks, then exited and was reaped: cutime grows by its total (75)
    const root = parseProcStat(line(10, 'postgres', 1, 100, 20, 375, 40));
    const after = treeTicks(root, [root, stats[1]!, stats[4]!]);
    // its grandchild (2 ticks) was not reaped by the root; it is gone from both sums
    expect(after - before).toBe(15 - 2);
  });
});

describe('parseVmRssKb', () => {
  it('reads VmRSS, 0 when absent', () => {
    expect(parseVmRssKb('Name:\tnode\nVmPeak:\t 999 kB\nVmRSS:\t  183500 kB\nRssAnon: 1 kB\n')).toBe(183_500);
    expect(parseVmRssKb('Name:\tnode\nState:\tZ (zombie)\n')).toBe(0);
  });
});

describe('parseProcIo', () => {
  it('reads the system-call counts', () => {
    const text =
      'rchar: 123\nwchar: 456\nsyscr: 7890\nsyscw: 1234\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n';
    expect(parseProcIo(text)).toEqual({ syscr: 7890, syscw: 1234 });
  });
  it('says which field is missing', () => {
    expect(() => parseProcIo('rchar: 1\n')).toThrow(/no syscr/);
  });
});
