-- The refresh lease lives in the connection's row (who may present its refresh token, and until
-- when), so a Redis restart can never let two processes present the same token. Neither column is
-- indexed: taking and renewing a lease is a HOT update.
ALTER TABLE "Connection" ADD COLUMN "leaseOwner" TEXT;
ALTER TABLE "Connection" ADD COLUMN "leaseUntil" TIMESTAMP(3);
