-- Webhook deliveries keep the exact bytes their sender signed. Postgres jsonb cannot hold every
-- JSON text (\u0000, an unpaired surrogate such as \ud800), and a delivery refused for that with
-- a 500 is sent again forever; so the signed bytes are stored as they came, and `payload` holds
-- the same JSON with those characters replaced by U+FFFD, for the processors and for querying.
-- Rows from before this migration have no body (NULL).
ALTER TABLE "WebhookDelivery" ADD COLUMN "body" BYTEA;

DROP FUNCTION conduit_record_webhook_delivery("Provider", TEXT, TIMESTAMP(3), TIMESTAMP(3), JSONB, UUID, TEXT);

-- As in migration 20261121170000, with the raw body stored next to the payload: still one
-- statement per delivery from the driver, its plans kept for the session.
CREATE FUNCTION conduit_record_webhook_delivery(
    p_provider "Provider",
    p_delivery_id TEXT,
    p_sent_at TIMESTAMP(3),
    p_received_at TIMESTAMP(3),
    p_body BYTEA,
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
            (id, provider, "deliveryId", "sentAt", "receivedAt", body, payload, "connectionId", status)
        VALUES (gen_random_uuid(), p_provider, p_delivery_id, p_sent_at, p_received_at, p_body, p_payload,
                v_account, CASE WHEN v_account IS NULL THEN 'unmatched' ELSE 'received' END::"WebhookStatus")
        ON CONFLICT (provider, "deliveryId") DO NOTHING
        RETURNING d.id, d.status, d."connectionId", TRUE;
    IF NOT FOUND THEN
        RETURN QUERY
            SELECT d.id, d.status, d."connectionId", FALSE FROM "WebhookDelivery" d
            WHERE d.provider = p_provider AND d."deliveryId" = p_delivery_id;
    END IF;
END
$$;
