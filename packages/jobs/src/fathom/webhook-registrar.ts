// Per-connection Fathom webhooks: registered through Fathom's API with the connection's own
// token, to a URL that names the connection only by an opaque routing id, with the secret Fathom
// shows once kept encrypted. A reconnect replaces the webhook (old one deleted, new secret); a
// disconnect deletes it; the sweep re-registers one that is missing or was deleted at Fathom.
// Every step claims the row first, so the callback and the sweep never register two; webhooks at
// our URL that we hold no secret for (a crash between create and store) are deleted first.
import type { ApiOutcome } from '@conduit/core';
import type { ConnectionWebhookRepository } from '@conduit/db';
import type { Logger } from 'pino';
import { AccessTokenError } from '../refresh/access-tokens.ts';

export interface FathomWebhooksApi {
  createWebhook(
    accessToken: string,
    spec: {
      destinationUrl: string;
      triggeredFor: string[];
      includeTranscript: boolean;
      includeSummary: boolean;
      includeActionItems: boolean;
      includeCrmMatches: boolean;
    },
  ): Promise<ApiOutcome<{ id: string; url: string; secret: string }>>;
  getWebhook(accessToken: string, id: string): Promise<ApiOutcome<{ id: string; url: string }>>;
  listWebhooks(accessToken: string): Promise<ApiOutcome<Array<{ id: string; url: string }>>>;
  deleteWebhook(accessToken: string, id: string): Promise<ApiOutcome<null>>;
}

export interface WebhookRegistrarDeps {
  api: FathomWebhooksApi;
  webhooks: ConnectionWebhookRepository;
  vault: { encrypt(plain: string): string };
  accessTokens: { getValidAccessToken(connectionId: string): Promise<string> };
  /** Conduit's public base URL, without a trailing slash */
  publicUrl: string;
  logger: Logger;
  /** how long one registration may hold the row */
  claimMs?: number;
  now?: () => Date;
}

export type RegistrationResult =
  | { kind: 'registered'; externalId: string }
  /** checked at Fathom: still there */
  | { kind: 'present' }
  /** another registration holds the row right now */
  | { kind: 'busy' }
  /** not now (no token, Fathom down or refusing): the sweep tries again */
  | { kind: 'failed'; detail: string };

/** Fathom's own recordings of the account, with what Conduit stores (PROVIDERS.md). */
const TRIGGERS = ['my_recordings'];

export class FathomWebhookRegistrar {
  constructor(private readonly deps: WebhookRegistrarDeps) {}

  destinationUrl(routingId: string): string {
    return `${this.deps.publicUrl}/v1/webhooks/fathom/${routingId}`;
  }

  /**
   * Registers a new webhook for the connection, replacing the one it had (deleted at Fathom).
   * Never throws for Fathom or token trouble: the result says what happened.
   */
  async register(connectionId: string, accessToken?: string): Promise<RegistrationResult> {
    return this.underClaim(
      connectionId,
      async (row, token) => {
        if (row.externalId !== null) await this.deleteAtFathom(token, row.externalId, connectionId);
        const url = this.destinationUrl(row.routingId);
        const listed = await this.deps.api.listWebhooks(token);
        if (listed.kind === 'ok') {
          for (const orphan of listed.value.filter((w) => w.url === url && w.id !== row.externalId)) {
            await this.deleteAtFathom(token, orphan.id, connectionId);
          }
        }
        const created = await this.deps.api.createWebhook(token, {
          destinationUrl: url,
          triggeredFor: TRIGGERS,
          includeTranscript: true,
          includeSummary: true,
          includeActionItems: false,
          includeCrmMatches: false,
        });
        if (created.kind !== 'ok') return failed(`registering the webhook: ${describe(created)}`);
        await this.deps.webhooks.registered(
          connectionId,
          { externalId: created.value.id, secretEnc: this.deps.vault.encrypt(created.value.secret) },
          this.now(),
        );
        this.deps.logger.info({ connectionId, webhookId: created.value.id }, 'webhook: registered at Fathom');
        return { kind: 'registered', externalId: created.value.id };
      },
      accessToken,
    );
  }

  /** The sweep's look: registers a missing webhook, re-registers one deleted at Fathom. */
  async ensure(connectionId: string): Promise<RegistrationResult> {
    const row = await this.deps.webhooks.find(connectionId);
    if (row?.externalId == null) return this.register(connectionId);
    let token: string;
    try {
      token = await this.deps.accessTokens.getValidAccessToken(connectionId);
    } catch (err) {
      return this.noted(connectionId, failed(tokenProblem(err)));
    }
    const seen = await this.deps.api.getWebhook(token, row.externalId);
    if (seen.kind === 'ok') {
      await this.deps.webhooks.release(connectionId, this.now(), { lastError: null, checked: true });
      return { kind: 'present' };
    }
    if (seen.kind !== 'not_found')
      return this.noted(connectionId, failed(`looking the webhook up: ${describe(seen)}`));
    this.deps.logger.warn(
      { connectionId, webhookId: row.externalId },
      'webhook: deleted at Fathom; registering a new one',
    );
    await this.deps.webhooks.forget(connectionId, this.now(), 'deleted at Fathom');
    return this.register(connectionId, token);
  }

  /**
   * Disconnect: deletes the webhook at Fathom with the connection's token (which the disconnect is
   * about to wipe) and forgets its secret, so nothing more is accepted on its route. Never throws.
   */
  async remove(connectionId: string): Promise<{ deleted: boolean; detail?: string }> {
    const row = await this.deps.webhooks.find(connectionId);
    if (row === null) return { deleted: false };
    let deleted = false;
    let detail: string | undefined;
    if (row.externalId !== null) {
      try {
        const token = await this.deps.accessTokens.getValidAccessToken(connectionId);
        deleted = await this.deleteAtFathom(token, row.externalId, connectionId);
        if (!deleted) detail = 'Fathom did not delete the webhook';
      } catch (err) {
        detail = tokenProblem(err);
      }
    }
    await this.deps.webhooks.forget(connectionId, this.now(), detail ?? null);
    if (detail !== undefined) {
      this.deps.logger.warn(
        { connectionId, webhookId: row.externalId, detail },
        'webhook: not deleted at Fathom on disconnect; its deliveries are refused from now on',
      );
    }
    return { deleted, ...(detail !== undefined && { detail }) };
  }

  private async underClaim(
    connectionId: string,
    work: (
      row: { routingId: string; externalId: string | null },
      token: string,
    ) => Promise<RegistrationResult>,
    accessToken?: string,
  ): Promise<RegistrationResult> {
    const now = this.now();
    await this.deps.webhooks.ensure(connectionId, 'fathom');
    const row = await this.deps.webhooks.claim(
      connectionId,
      now,
      new Date(now.getTime() + (this.deps.claimMs ?? 30_000)),
    );
    if (row === null) return { kind: 'busy' };
    let result: RegistrationResult;
    try {
      const token = accessToken ?? (await this.deps.accessTokens.getValidAccessToken(connectionId));
      result = await work(row, token);
    } catch (err) {
      result = failed(err instanceof AccessTokenError ? tokenProblem(err) : (err as Error).message);
    }
    if (result.kind !== 'registered') {
      await this.deps.webhooks.release(connectionId, this.now(), {
        lastError: result.kind === 'failed' ? result.detail : null,
        checked: false,
      });
      if (result.kind === 'failed') {
        this.deps.logger.warn(
          { connectionId, detail: result.detail },
          'webhook: not registered at Fathom; the webhook sweep will try again',
        );
      }
    }
    return result;
  }

  /** True when it is gone (deleted now, or already). */
  private async deleteAtFathom(token: string, id: string, connectionId: string): Promise<boolean> {
    const answer = await this.deps.api.deleteWebhook(token, id);
    if (answer.kind === 'ok' || answer.kind === 'not_found') return true;
    this.deps.logger.warn(
      { connectionId, webhookId: id, detail: describe(answer) },
      'webhook: the old webhook could not be deleted at Fathom; its deliveries are refused (its secret is forgotten)',
    );
    return false;
  }

  private async noted(connectionId: string, result: RegistrationResult): Promise<RegistrationResult> {
    if (result.kind === 'failed') {
      await this.deps.webhooks.release(connectionId, this.now(), {
        lastError: result.detail,
        checked: false,
      });
    }
    return result;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

function failed(detail: string): RegistrationResult {
  return { kind: 'failed', detail };
}

function tokenProblem(err: unknown): string {
  if (err instanceof AccessTokenError) return `no usable access token (${err.code})`;
  return `no usable access token (${(err as Error).message})`;
}

function describe(outcome: Exclude<ApiOutcome<unknown>, { kind: 'ok' }>): string {
  switch (outcome.kind) {
    case 'rate_limited':
      return `rate limited for ${outcome.waitMs} ms`;
    case 'unauthorized':
    case 'not_found':
    case 'transient':
    case 'rejected':
      return outcome.detail;
  }
}
