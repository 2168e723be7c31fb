-- Outgoing webhooks (DESIGN §7): subscriptions of integrators and the
-- durable outbox of deliveries. internal/webhook owns these tables.
--
-- The signing secret is kept as written: the server needs it to sign every
-- delivery, so it cannot be stored hashed like API tokens. The API shows it
-- once (on create and on rotate) and never again. previous_secret keeps
-- signing alongside the new one until previous_until, so that receivers can
-- switch without losing deliveries.
CREATE TABLE webhook_subscriptions (
    id                 BIGINT  PRIMARY KEY,
    name               TEXT    NOT NULL,
    url                TEXT    NOT NULL,
    events             TEXT    NOT NULL DEFAULT '[]',
    active             BIGINT  NOT NULL DEFAULT 1,
    deactivated_reason TEXT    NOT NULL DEFAULT '',
    secret             TEXT    NOT NULL,
    secret_hint        TEXT    NOT NULL,
    previous_secret    TEXT    NOT NULL DEFAULT '',
    previous_until     BIGINT,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);

-- No foreign key to the subscription: an interaction's transaction writes
-- deliveries, and a subscription deleted meanwhile must not fail it. Deleting
-- a subscription deletes its deliveries; the dispatcher drops strays.
-- next_attempt_at is set while a delivery may still be sent (pending, failed,
-- or claimed by a node until then) and NULL once delivered or dead.
CREATE TABLE webhook_deliveries (
    id              BIGINT  PRIMARY KEY,
    subscription_id BIGINT  NOT NULL,
    event_type      TEXT    NOT NULL,
    event_id        TEXT    NOT NULL,
    replay_of       BIGINT,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_status     BIGINT,
    last_error      TEXT    NOT NULL DEFAULT '',
    response_ms     BIGINT,
    created_at      BIGINT  NOT NULL,
    delivered_at    BIGINT
);
-- An event reaches a subscription once, however many times it is emitted
-- (the transactional and the live path may both see case.created); replays
-- are further deliveries of it.
CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (subscription_id, event_id) WHERE replay_of IS NULL;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (subscription_id, id);
