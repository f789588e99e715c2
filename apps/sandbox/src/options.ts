// startSandbox's options and their defaults.
import type { FaultConfig } from './faults.ts';
import type { PerProvider } from './lifetimes.ts';
import { silentLogger, type SandboxLogger } from './log.ts';
import type { Budget } from './rate-limit.ts';

export interface SandboxOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (any free port) */
  port?: number;
  /** seeds faults, generated people and meetings, and rotation choices (default 42) */
  seed?: number;
  /** shorten (or lengthen) access-token lifetimes per provider, in seconds */
  accessTokenTtlSeconds?: PerProvider<number>;
  /** shorten refresh-token lifetimes of providers whose refresh tokens lapse (Spotify, Google, GitHub App) */
  refreshTokenTtlSeconds?: PerProvider<number>;
  /** faults from the start (also settable through /_sandbox/faults) */
  faults?: FaultConfig;
  /** waits between webhook delivery attempts (default Svix's: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) */
  webhookRetryDelaysMs?: number[];
  /** how long one delivery attempt may take (default 15 s) */
  webhookTimeoutMs?: number;
  /** override documented per-account API budgets (Fathom: 60 per 60 s) */
  accountBudgets?: PerProvider<Budget>;
  /** share of Spotify-style "sometimes" refreshes that rotate the refresh token (default 0.5) */
  sometimesRotationRate?: number;
  /** requests this soon after a 429 are not counted as early (in flight before it; default 50 ms) */
  earlyRequestGraceMs?: number;
  /**
   * past meetings a Fathom account gets when it is first seen on the consent page, so a newcomer's
   * first connect has something to sync (default 3; 0 for none)
   */
  newAccountMeetings?: number;
  /** Fathom list page size (default 10) */
  pageSize?: number;
  logger?: SandboxLogger;
  /** keep accounts and grants in this file across restarts (default '': in memory only) */
  grantsFile?: string;
}

export type ResolvedOptions = Required<SandboxOptions>;

export const SVIX_RETRY_DELAYS_MS = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
];

export function resolveOptions(options: SandboxOptions): ResolvedOptions {
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    seed: options.seed ?? 42,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? {},
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? {},
    faults: options.faults ?? {},
    webhookRetryDelaysMs: options.webhookRetryDelaysMs ?? SVIX_RETRY_DELAYS_MS,
    webhookTimeoutMs: options.webhookTimeoutMs ?? 15_000,
    accountBudgets: options.accountBudgets ?? {},
    sometimesRotationRate: options.sometimesRotationRate ?? 0.5,
    earlyRequestGraceMs: options.earlyRequestGraceMs ?? 50,
    newAccountMeetings: options.newAccountMeetings ?? 3,
    pageSize: options.pageSize ?? 10,
    logger: options.logger ?? silentLogger,
    grantsFile: options.grantsFile ?? '',
  };
}
