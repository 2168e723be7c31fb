-- SMS, WhatsApp, Meta and Telegram (issue 5): status callbacks find their
-- delivery by the provider's message id (a Twilio SM..., a wamid); the
-- contact point is part of the key because ids are unique per provider only.
-- internal/outbox owns outbound_deliveries.
CREATE INDEX outbound_deliveries_provider ON outbound_deliveries (contact_point_id, provider_message_id)
    WHERE provider_message_id <> '';
