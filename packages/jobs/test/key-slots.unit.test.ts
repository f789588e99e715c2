import { describe, expect, it } from 'vitest';
import { hasHashTag, queueKeyPrefix, slotTag } from '../src/key-slots.ts';

describe('key slots', () => {
  it('a prefix without a hash tag gives each queue a tag of its own, so a cluster spreads the lanes', () => {
    expect(queueKeyPrefix('conduit', 'refresh-discord')).toBe('conduit:{refresh-discord}');
    expect(queueKeyPrefix('conduit', 'refresh-google')).toBe('conduit:{refresh-google}');
    expect(slotTag('conduit', 'fathom:acct-1')).toBe('{fathom:acct-1}');
  });

  it('a prefix with a hash tag keeps every key in its slot, named as before cluster support', () => {
    expect(queueKeyPrefix('{conduit}', 'refresh-discord')).toBe('{conduit}');
    expect(slotTag('{conduit}', 'fathom:acct-1')).toBe('fathom:acct-1');
    expect(queueKeyPrefix('ctest:{x1}', 'sweeps')).toBe('ctest:{x1}');
  });

  it('a hash tag is the first "{" with a "}" after it and something between, as Redis reads it', () => {
    expect(hasHashTag('{conduit}')).toBe(true);
    expect(hasHashTag('app:{c}:x')).toBe(true);
    expect(hasHashTag('conduit')).toBe(false);
    expect(hasHashTag('{}conduit')).toBe(false);
    expect(hasHashTag('conduit}')).toBe(false);
    expect(hasHashTag('{conduit')).toBe(false);
  });
});
