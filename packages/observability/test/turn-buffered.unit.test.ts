import { describe, expect, it } from 'vitest';
import { TurnBufferedLines } from '../src/turn-buffered.ts';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('turn-buffered log lines', () => {
  it('writes the lines of one turn in one write, in order, after the turn', async () => {
    const writes: string[] = [];
    const lines = new TurnBufferedLines({ write: (s) => writes.push(s) });
    lines.write('a\n');
    lines.write('b\n');
    lines.write('c\n');
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toEqual(['a\nb\nc\n']);
    lines.write('d\n');
    await turn();
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('flushSync writes what is pending at once, and nothing twice', async () => {
    const writes: string[] = [];
    const lines = new TurnBufferedLines({ write: (s) => writes.push(s) });
    lines.write('a\n');
    lines.flushSync();
    expect(writes).toEqual(['a\n']);
    await turn();
    expect(writes).toEqual(['a\n']);
    lines.write('b\n');
    lines.flush();
    expect(writes).toEqual(['a\n', 'b\n']);
  });
});
