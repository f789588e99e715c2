-- Room on every page of "Connection" for a new version of each row, so updates that change no
-- indexed column are HOT (heap-only: no index entry at all): taking, renewing and ending a refresh
-- lease, a sweep's claim (refreshQueuedAt), sync bookkeeping. The refresh commit itself moves
-- "tokenExpiresAt", which the sweep's index needs, so it cannot be HOT (docs/benchmarks.md).
-- Existing pages get the room as they are rewritten (VACUUM FULL, or as rows move); new ones at once.
ALTER TABLE "Connection" SET (fillfactor = 80);
