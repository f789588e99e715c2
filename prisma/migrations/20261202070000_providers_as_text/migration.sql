-- Providers are data (issue 15): a provider is any key a declaration names, so the column is
-- text checked against the key format instead of an enum that a new provider would have to
-- extend with a migration. The webhook function takes the key as text.
DROP FUNCTION conduit_record_webhook_delivery("Provider", TEXT, TIMESTAMP(3), TIMESTAMP(3), BYTEA, JSONB, UUID, TEXT);

ALTER TABLE "Connection" ALTER COLUMN "provider" TYPE TEXT USING "provider"::TEXT;
ALTER TABLE "OAuthState" ALTER COLUMN "provider" TYPE TEXT USING "provider"::TEXT;
ALTER TABLE "WebhookDelivery" ALTER COLUMN "provider" TYPE TEXT USING "provider"::TEXT;
ALTER TABLE "ConnectionWebhook" ALTER COLUMN "provider" TYPE TEXT USING "provider"::TEXT;
ALTER TABLE "Notification" ALTER COLUMN "provider" TYPE TEXT USING "provider"::TEXT;
ALTER TABLE "GrantRevocation" ALTER COLUMN "provider" TYPE TEXT USING "provider"::TEXT;

ALTER TABLE "Connection" ADD CONSTRAINT "Connection_provider_key" CHECK ("provider" ~ '^[a-z][a-z0-9_]{0,39}$');
ALTER TABLE "OAuthState" ADD CONSTRAINT "OAuthState_provider_key" CHECK ("provider" ~ '^[a-z][a-z0-9_]{0,39}$');

DROP TYPE "Provider";

-- As in migration 20261202020000, with the provider as text.
CREATE FUNCTION conduit_record_webhook_delivery(
    p_provider TEXT,
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
