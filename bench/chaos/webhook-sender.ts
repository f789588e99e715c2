// Fathom "recording ready" deliveries throughout the run, as Fathom would send them: the sandbox
// records a meeting for a grant (so its transcript exists there), then a signed delivery naming
// that account goes to the api. A refused or unanswered delivery is retried with the same
// webhook-id (as Svix does), and a share of them is sent twice on purpose, at once or a moment
// later. Accepted = answered 2xx at least once. Each delivery goes where its connection's route
// says, signed with that route's secret (webhook-routes.ts: per connection, or the operator mode).
import { setTimeout as sleep } from 'node:timers/promises';
import { webhookHeaders } from '@conduit/core';
import { fathomMeeting } from '../fathom-meeting.ts';
import type { SandboxControl } from './sandbox-control.ts';
import type { SeededConnection } from './seed.ts';
import type { RouteOf, WebhookRoute } from './webhook-routes.ts';

const ATTEMPTS = 6;
const RETRY_DELAY_MS = 1_000;
const ATTEMPT_TIMEOUT_MS = 15_000;

export interface WebhookStats {
  deliveries: number;
  accepted: number;
  duplicatesSent: number;
  /** a copy of an already accepted delivery answered as new rather than `duplicate` */
  duplicatesTakenAsNew: number;
  /** never answered 2xx after every retry */
  refusedForGood: number;
  attemptsRefused: number;
  recordingFailures: number;
}

type Answer = { ok: boolean; status: string | null };

export class WebhookSender {
  /** webhook-id → recording id, for every delivery answered 2xx */
  readonly accepted = new Map<string, number>();
  private readonly newAnswers = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private n = 0;
  readonly stats: WebhookStats = {
    deliveries: 0,
    accepted: 0,
    duplicatesSent: 0,
    duplicatesTakenAsNew: 0,
    refusedForGood: 0,
    attemptsRefused: 0,
    recordingFailures: 0,
  };

  constructor(
    private readonly routeOf: RouteOf,
    private readonly sandbox: SandboxControl,
    private readonly targets: readonly SeededConnection[],
    private readonly duplicateShare: number,
    private readonly random: () => number,
  ) {}

  start(perSecond: number): void {
    if (perSecond <= 0 || this.targets.length === 0) return;
    this.timer = setInterval(() => {
      const p = this.one().catch((err: Error) => console.error(`webhook sender: ${err.message}`));
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }, 1000 / perSecond);
  }

  /** Stops sending new deliveries and waits for the retries of those in flight (bounded by their attempts). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
    this.stats.accepted = this.accepted.size;
  }

  private async one(): Promise<void> {
    const target = this.targets[Math.floor(this.random() * this.targets.length)]!;
    let recording: { recording_id: number; created_at: string };
    try {
      recording = await this.sandbox.record(target.grantId);
    } catch {
      this.stats.recordingFailures += 1;
      return;
    }
    const id = `msg_chaos_${++this.n}_${recording.recording_id}`;
    const body = fathomMeeting({
      recordingId: recording.recording_id,
      createdAt: recording.created_at,
      email: target.email,
      name: 'Chaos Recorder',
    });
    this.stats.deliveries += 1;
    const duplicate = this.random() < this.duplicateShare;
    const together = duplicate && this.random() < 0.5;
    if (duplicate) this.stats.duplicatesSent += 1;
    const route = this.routeOf(target);
    const first = this.deliver(route, id, body, recording.recording_id);
    const second = together ? this.deliver(route, id, body, recording.recording_id) : undefined;
    const accepted = await first;
    await second;
    if (duplicate && !together && accepted) {
      await sleep(Math.floor(this.random() * 500));
      await this.deliver(route, id, body, recording.recording_id);
    }
    if (!this.accepted.has(id)) this.stats.refusedForGood += 1;
  }

  /** Sends one delivery until it is answered 2xx or the attempts run out; true when accepted. */
  private async deliver(
    route: WebhookRoute,
    id: string,
    body: string,
    recordingId: number,
  ): Promise<boolean> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const answer = await this.post(route, id, body);
      if (answer.ok) {
        if (answer.status !== 'duplicate') {
          const seen = (this.newAnswers.get(id) ?? 0) + 1;
          this.newAnswers.set(id, seen);
          if (seen > 1) this.stats.duplicatesTakenAsNew += 1;
        }
        this.accepted.set(id, recordingId);
        return true;
      }
      this.stats.attemptsRefused += 1;
      await sleep(RETRY_DELAY_MS);
    }
    return false;
  }

  private async post(route: WebhookRoute, id: string, body: string): Promise<Answer> {
    try {
      const res = await fetch(route.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...webhookHeaders(route.secret, id, Math.floor(Date.now() / 1000), body),
        },
        body,
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.status < 200 || res.status >= 300) return { ok: false, status: null };
      const parsed = JSON.parse(text) as { status?: string };
      return { ok: true, status: parsed.status ?? null };
    } catch {
      return { ok: false, status: null };
    }
  }
}
