import { describe, expect, it } from 'vitest';
import { CpuHog } from './cpu-hog.ts';

// The CPU hog is killed when its window ends: nothing keeps burning a core after the run.
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('cpu hog', () => {
  it('runs one busy loop per core asked for, and stop() leaves none behind', async () => {
    const hog = CpuHog.start(2);
    expect(hog.pids).toHaveLength(2);
    expect(hog.pids.every(alive)).toBe(true);
    await hog.stop();
    expect(hog.pids.some(alive)).toBe(false);
  });
});
