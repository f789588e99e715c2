-- Revocations retried through an outbox of their own, and the purge of a disconnected
-- connection's synced data (the connection row and its events stay, as the audit).
ALTER TABLE "Connection" ADD COLUMN "purgedAt" TIMESTAMP(3);

CREATE TYPE "RevocationStatus" AS ENUM ('pending', 'revoked', 'gave_up', 'superseded');

CREATE TABLE "GrantRevocation" (
    "id" UUID NOT NULL,
    "connectionId" UUID,
    "provider" "Provider" NOT NULL,
    "accessTokenEnc" TEXT,
    "refreshTokenEnc" TEXT,
    "status" "RevocationStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "GrantRevocation_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "GrantRevocation_status_nextAttemptAt_idx" ON "GrantRevocation"("status", "nextAttemptAt");
CREATE INDEX "GrantRevocation_connectionId_idx" ON "GrantRevocation"("connectionId");

ALTER TABLE "GrantRevocation" ADD CONSTRAINT "GrantRevocation_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Fathom's API names no account id; earlier versions stored the email in its place. The email
-- stays in "externalEmail"; "externalAccountId" is only ever the provider's own id.
UPDATE "Connection" SET "externalAccountId" = NULL
WHERE provider = 'fathom' AND "externalAccountId" LIKE '%@%';
