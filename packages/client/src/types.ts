// What Conduit's API answers, as the client hands it over (dates as Date).

/** A provider's key: a built-in one, or any a deployment declares (CONDUIT_PROVIDERS_FILE). */
export type Provider = 'fathom' | 'spotify' | 'google' | 'discord' | 'github' | 'github_app' | (string & {});

export type ConnectionStatus = 'connected' | 'token_expired' | 'needs_reauth' | 'error' | 'disconnected';

export interface AccessToken {
  accessToken: string;
  tokenType: 'Bearer';
  /** null: the token never expires */
  expiresAt: Date | null;
  scopes: string[];
  connectionId: string;
  provider: Provider;
}

/** The safe view of a connection: never a token. */
export interface Connection {
  id: string;
  ownerId: string;
  teamId: string | null;
  provider: Provider;
  externalAccountId: string | null;
  externalEmail: string | null;
  status: ConnectionStatus;
  statusReason: string | null;
  statusChangedAt: string;
  tokenExpiresAt: string | null;
  refreshTokenExpiresAt: string | null;
  scopes: string[];
  lastRefreshAt: string | null;
  lastRefreshError: string | null;
  lastSyncAt: string | null;
  lastSyncError: string | null;
  failureCount: number;
  createdAt: string;
  updatedAt: string;
}

/** What a purge deleted (`disconnect(id, { purge: true })`). */
export interface Purged {
  at: string;
  meetings: number;
  transcripts: number;
  webhookDeliveries: number;
  webhooks: number;
}

export interface StartedConnect {
  /** open it for the user (a popup, usually) */
  authUrl: string;
  expiresAt: string;
}

export interface SyncQueued {
  jobId: string;
  [extra: string]: unknown;
}

export interface Meeting {
  id: string;
  connectionId: string;
  recordingId: number;
  title: string;
  url: string | null;
  shareUrl: string | null;
  /** when the provider created the recording */
  createdAt: string;
  scheduledStartAt: string | null;
  scheduledEndAt: string | null;
  recordingStartAt: string | null;
  recordingEndAt: string | null;
  transcriptLanguage: string | null;
  recordedByEmail: string | null;
  invitees: Array<Record<string, unknown>>;
}

export interface ListedMeeting extends Meeting {
  hasTranscript: boolean;
}

export interface MeetingDetail extends Meeting {
  transcript: { language: string | null; segments: Array<Record<string, unknown>>; fetchedAt: string } | null;
  summary: { template: string | null; markdown: string } | null;
}

export interface MeetingPage {
  items: ListedMeeting[];
  /** pass it back as `cursor` for the next page; null on the last one */
  nextCursor: string | null;
}
