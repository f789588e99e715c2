import { register } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../src/index.ts';

describe('createMetricsRegistry', () => {
  it('gives a registry of its own, with process metrics and default labels', async () => {
    const registry = createMetricsRegistry({ defaultLabels: { app: 'worker' } });
    expect(registry).not.toBe(register);
    const text = await registry.metrics();
    expect(text).toMatch(/^conduit_process_cpu_user_seconds_total\{app="worker"\} /m);
  });

  it('leaves process metrics out when asked', async () => {
    expect((await createMetricsRegistry({ processMetrics: false }).metrics()).trim()).toBe('');
  });
});
