import { describe, expect, it } from 'vitest';
import { relativeTime } from '../src/relative-time.ts';
import { renderTable } from '../src/table.ts';

const now = new Date('2026-12-02T03:00:00Z');
const at = (ms: number) => new Date(now.getTime() + ms);

describe('relative times', () => {
  it.each([
    [42 * 60_000, 'in 42 min'],
    [-3 * 3_600_000, '3 h ago'],
    [-20_000, 'just now'],
    [20_000, 'in under a minute'],
    [5 * 86_400_000, 'in 5 d'],
  ])('%d ms from now reads "%s"', (ms, text) => {
    expect(relativeTime(at(ms), now)).toBe(text);
  });

  it('no time is a dash', () => expect(relativeTime(null, now)).toBe('—'));
});

describe('tables fit the terminal', () => {
  it('cuts only the shrinkable column, with an ellipsis, and keeps the others whole', () => {
    const text = renderTable(
      ['id', 'reason'],
      [['3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a15', 'invalid_grant: '.padEnd(200, 'x')]],
      { width: 60, shrink: [1] },
    );
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(60);
    expect(text).toContain('3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a15  invalid_grant: xxx');
    expect(text.split('\n')[2]!.endsWith('…')).toBe(true);
  });

  it('without a width nothing is cut', () => {
    expect(renderTable(['a'], [['x'.repeat(300)]]).split('\n')[2]).toHaveLength(300);
  });
});
