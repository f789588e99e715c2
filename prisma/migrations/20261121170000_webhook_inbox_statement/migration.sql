-- The waiting deliveries of one connection: every transcript fetch and every sync marks them
-- processed by connection, which must not scan the whole inbox.
CREATE INDEX "WebhookDelivery_connectionId_status_idx" ON "WebhookDelivery"("connectionId", "status");

-- The webhook inbox's hot path as one function: match the account by email (connected first,
-- then the most recently changed), store the delivery unless its id is known, and return the
-- stored row either way. PL/pgSQL keeps each statement's plan for the session, where a statement
-- sent from the driver is planned on every request (planning was ~2/3 of the route's Postgres
-- time: docs/benchmarks.md). The read after a conflict is its own statement, so under READ
-- COMMITTED it sees a rival's row that committed while the insert waited on it.
CREATE FUNCTION conduit_record_webhook_delivery(
    p_provider "Provider",
    p_delivery_id TEXT,
    p_sent_at TIMESTAMP(3),
    p_received_at TIMESTAMP(3),
    p_payload JSONB,
    p_connection_id UUID,
    p_email TEXT
) RETURNS TABLE (id UUID, status "WebhookStatus", "connectionId" UUID, stored BOOLEAN)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_account UUID := p_connection_id;
BEGIN
    IF v_account IS NULL AND p_email IS NOT NULL THEN
        SELECT c.id INTO v_account FROM "Connection" c
        WHERE c.provider = p_provider AND c."externalEmail" = p_email
        ORDER BY c.status IN ('connected', 'token_expired') DESC, c."statusChangedAt" DESC
        LIMIT 1;
    END IF;
    RETURN QUERY
        INSERT INTO "WebhookDelivery" AS d
            (id, provider, "deliveryId", "sentAt", "receivedAt", payload, "connectionId", status)
        VALUES (gen_random_uuid(), p_provider, p_delivery_id, p_sent_at, p_received_at, p_payload, v_account,
                CASE WHEN v_account IS NULL THEN 'unmatched' ELSE 'received' END::"WebhookStatus")
        ON CONFLICT (provider, "deliveryId") DO NOTHING
        RETURNING d.id, d.status, d."connectionId", TRUE;
    IF NOT FOUND THEN
        RETURN QUERY
            SELECT d.id, d.status, d."connectionId", FALSE FROM "WebhookDelivery" d
            WHERE d.provider = p_provider AND d."deliveryId" = p_delivery_id;
    END IF;
END
$$;
