// The fault phase: what goes wrong, and when. Token-endpoint faults for the whole phase; a worker
// SIGKILLed (and restarted at once) every few seconds, once the previous victim is back; at 25 % the chosen grants are revoked; at 45 % one
// provider's client secret goes bad for a few seconds and is then restored (the connections that
// refreshed meanwhile go to `error`, and Conduit's recovery sweep must bring them back); at 60 %
// the private Redis restarts, losing every queue, lock and schedule.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProviderKey } from '@conduit/core';
import type { Fleet } from './fleet.ts';
import type { ChaosOptions } from './options.ts';
import type { PrivateRedis } from './private-redis.ts';
import type { SandboxControl } from './sandbox-control.ts';
import type { SeededConnection } from './seed.ts';

export interface Timeline {
  /** ms since the fault phase began */
  events: Array<{ atMs: number; what: string }>;
  revoked: number;
  /** token-endpoint errors of the bad-secret provider during the window (invalid_client, mostly) */
  badSecretRefusals: number;
}

const REDIS_DOWN_MS = 2_000;

export async function runFaultPhase(d: {
  options: ChaosOptions;
  fleet: Fleet;
  redis: PrivateRedis;
  sandbox: SandboxControl;
  seeded: readonly SeededConnection[];
  goodSecret: (p: ProviderKey) => string;
}): Promise<Timeline> {
  const { options: o, fleet, sandbox } = d;
  const started = Date.now();
  const durationMs = o.minutes * 60_000;
  const end = started + durationMs;
  const timeline: Timeline = { events: [], revoked: 0, badSecretRefusals: 0 };
  const note = (what: string) => {
    timeline.events.push({ atMs: Date.now() - started, what });
    console.log(`  [${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${what}`);
  };
  const at = async (share: number) => {
    const wait = started + durationMs * share - Date.now();
    if (wait > 0) await sleep(wait);
  };

  await sandbox.tokenFaults(o.faults);
  note(`token endpoint faults on: ${JSON.stringify(o.faults)}`);

  // One kill every few seconds, round robin, but never while the last victim is still starting:
  // a restart takes seconds on busy cores, and killing the only live worker tests nothing more.
  const killer = (async () => {
    for (let i = 0; i < 100_000 && !o.skip.has('sigkill'); i++) {
      await sleep(Math.max(0, Math.min(o.killEverySeconds * 1000, end - Date.now())));
      if (Date.now() + 1_000 >= end) break;
      // Not back before the phase ends (or dead: the check after the phase reports that): stop killing.
      const back = await fleet.workersReady(end - Date.now()).then(
        () => true,
        () => false,
      );
      if (!back || Date.now() + 1_000 >= end) break;
      await fleet.killAndRestartWorker(i % o.workers);
    }
  })();

  const script = (async () => {
    await at(0.25);
    const revoked = d.seeded.filter((c) => c.revoked).map((c) => c.grantId);
    if (revoked.length > 0) await sandbox.revoke(revoked);
    timeline.revoked = revoked.length;
    note(`revoked ${revoked.length} grants`);

    await at(0.45);
    if (!o.skip.has('bad-secret')) {
      const refused = async () =>
        (await sandbox.report(false)).providers[o.badSecretProvider].traffic.tokenErrors ?? 0;
      const before = await refused();
      await sandbox.setClientSecret(o.badSecretProvider, 'chaos-wrong-secret');
      note(`${o.badSecretProvider}: client secret no longer matches`);
      await sleep(o.badSecretSeconds * 1000);
      await sandbox.setClientSecret(o.badSecretProvider, d.goodSecret(o.badSecretProvider));
      timeline.badSecretRefusals = (await refused()) - before;
      note(
        `${o.badSecretProvider}: client secret restored (${timeline.badSecretRefusals} token requests refused meanwhile)`,
      );
    }

    await at(0.6);
    if (!o.skip.has('redis-restart')) {
      note('private Redis: restarting (nothing persisted)');
      await d.redis.restart(REDIS_DOWN_MS);
      note(`private Redis: back after ${REDIS_DOWN_MS / 1000} s down`);
    }
  })();

  await Promise.all([killer, script]);
  await at(1);
  return timeline;
}
