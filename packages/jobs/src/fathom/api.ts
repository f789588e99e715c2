// The Fathom API as the jobs see it; @conduit/providers' FathomClient implements it.
import type { ApiOutcome, FathomMeetingsPage, FathomSummary, FathomTranscriptLine } from '@conduit/core';

export interface FathomApi {
  listMeetings(
    accessToken: string,
    query: { createdAfter?: Date | undefined; cursor?: string | undefined },
  ): Promise<ApiOutcome<FathomMeetingsPage>>;
  getTranscript(accessToken: string, recordingId: number): Promise<ApiOutcome<FathomTranscriptLine[]>>;
  getSummary(accessToken: string, recordingId: number): Promise<ApiOutcome<FathomSummary>>;
}
