// Holds park requests of a provider's endpoint, after they arrived and before they are
// processed, until released: a test can kill a client mid-refresh. A parked request whose
// client goes away is abandoned (never processed) unless the hold says `processAbandoned`,
// which imitates a provider that did the work but whose answer was lost.
import type { ProviderKey } from '@conduit/core';
import type { FastifyReply } from 'fastify';
import type { FaultEndpoint } from './faults.ts';

interface Parked {
  key: string;
  resolve: (outcome: 'release' | 'abandoned') => void;
  settled: boolean;
  /** its client has gone (kept parked only with processAbandoned) */
  clientGone: boolean;
}

export interface HoldStatus {
  provider: ProviderKey;
  endpoint: FaultEndpoint;
  processAbandoned: boolean;
  parked: number;
  /** parked requests whose client has already gone (with processAbandoned: their answers will be lost) */
  clientsGone: number;
}

export class Holds {
  private readonly active = new Map<string, { processAbandoned: boolean }>();
  private parked: Parked[] = [];

  hold(provider: ProviderKey, endpoint: FaultEndpoint, processAbandoned = false): void {
    this.active.set(`${provider}:${endpoint}`, { processAbandoned });
  }

  isHeld(provider: ProviderKey, endpoint: FaultEndpoint): boolean {
    return this.active.size > 0 && this.active.has(`${provider}:${endpoint}`);
  }

  park(
    provider: ProviderKey,
    endpoint: FaultEndpoint,
    reply: FastifyReply,
  ): Promise<'release' | 'abandoned'> {
    const key = `${provider}:${endpoint}`;
    const processAbandoned = this.active.get(key)?.processAbandoned ?? false;
    return new Promise((resolve) => {
      const entry: Parked = { key, resolve, settled: false, clientGone: false };
      this.parked.push(entry);
      reply.raw.once('close', () => {
        if (entry.settled) return;
        entry.clientGone = true;
        if (processAbandoned) return;
        entry.settled = true;
        this.parked = this.parked.filter((p) => p !== entry);
        resolve('abandoned');
      });
    });
  }

  /** Lifts the matching holds and lets their parked requests proceed in arrival order. */
  release(provider?: ProviderKey, endpoint?: FaultEndpoint): number {
    const matches = (key: string): boolean => {
      const [p, e] = key.split(':');
      return (provider === undefined || p === provider) && (endpoint === undefined || e === endpoint);
    };
    for (const key of [...this.active.keys()]) if (matches(key)) this.active.delete(key);
    const released = this.parked.filter((p) => matches(p.key));
    this.parked = this.parked.filter((p) => !matches(p.key));
    for (const entry of released) {
      entry.settled = true;
      entry.resolve('release');
    }
    return released.length;
  }

  status(): HoldStatus[] {
    const keys = new Set([...this.active.keys(), ...this.parked.map((p) => p.key)]);
    return [...keys].map((key) => {
      const [provider, endpoint] = key.split(':') as [ProviderKey, FaultEndpoint];
      return {
        provider,
        endpoint,
        processAbandoned: this.active.get(key)?.processAbandoned ?? false,
        parked: this.parked.filter((p) => p.key === key).length,
        clientsGone: this.parked.filter((p) => p.key === key && p.clientGone).length,
      };
    });
  }
}
