import { describe, expect, it } from 'vitest';
import { addCounts, diffCounts, parseCommandStats, perOperation, total } from './redis-stats.ts';

const INFO = [
  '# Commandstats',
  'cmdstat_evalsha:calls=200,usec=9000,usec_per_call=45.00,rejected_calls=0,failed_calls=0',
  'cmdstat_xadd:calls=400,usec=800,usec_per_call=2.00,rejected_calls=0,failed_calls=0',
  'cmdstat_config|get:calls=3,usec=30,usec_per_call=10.00,rejected_calls=0,failed_calls=0',
  'cmdstat_SET:calls=100,usec=100,usec_per_call=1.00,rejected_calls=0,failed_calls=0',
  '',
].join('\r\n');

describe('parseCommandStats', () => {
  it('reads the calls of every command, subcommands by their full name, names in lower case', () => {
    expect(parseCommandStats(INFO)).toEqual({ evalsha: 200, xadd: 400, 'config|get': 3, set: 100 });
  });

  it('an empty section is no commands', () => {
    expect(parseCommandStats('# Commandstats\r\n')).toEqual({});
  });
});

describe('diffCounts, addCounts, total', () => {
  it('differences per command, commands that did not move left out, new ones in full', () => {
    expect(diffCounts({ get: 5, set: 10, del: 1 }, { get: 5, set: 25, del: 1, xadd: 4 })).toEqual({
      set: 15,
      xadd: 4,
    });
    expect(addCounts({ get: 1 }, { get: 2, set: 3 })).toEqual({ get: 3, set: 3 });
    expect(total({ get: 3, set: 3 })).toBe(6);
  });
});

describe('perOperation', () => {
  it('per operation: everything executed, the script calls, and each command, largest first', () => {
    const per = perOperation({ evalsha: 200, xadd: 400, set: 100, eval: 2, ping: 1 }, 100);
    expect(per.executed).toBe(7.03);
    expect(per.scripts).toBe(2.02);
    expect(Object.entries(per.byCommand)).toEqual([
      ['xadd', 4],
      ['evalsha', 2],
      ['set', 1],
      ['eval', 0.02],
      ['ping', 0.01],
    ]);
  });

  it('commands under 0.01 per operation are left out of the breakdown, not of the total', () => {
    const per = perOperation({ set: 1000, ping: 1 }, 1000);
    expect(per.byCommand).toEqual({ set: 1 });
    expect(per.executed).toBe(1);
  });
});
