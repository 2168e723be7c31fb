-- Email channel and the outbox of outbound messages (docs/architecture.md,
-- "Email and the outbox"). internal/channel/mailbox owns the email_* tables,
-- internal/outbox owns outbound_deliveries.

-- Secrets of a contact point (IMAP and SMTP passwords, API tokens): written
-- through the API, never returned by it. A JSON object of strings.
ALTER TABLE contact_points ADD COLUMN secrets TEXT NOT NULL DEFAULT '{}';

-- Message-IDs Touchpoint has seen or sent, and where they belong: a reply's
-- In-Reply-To or References finds its case here first.
CREATE TABLE email_threads (
    message_id       TEXT    NOT NULL PRIMARY KEY,
    interaction_id   INTEGER NOT NULL,
    case_id          INTEGER,
    contact_point_id INTEGER NOT NULL,
    direction        TEXT    NOT NULL,
    created_at       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX email_threads_interaction ON email_threads (interaction_id);

-- Attachments of inbound mail. data is NULL when the file was over the
-- size limit (the row still says it existed).
CREATE TABLE email_attachments (
    id             INTEGER PRIMARY KEY,
    interaction_id INTEGER NOT NULL,
    position       INTEGER NOT NULL,
    filename       TEXT    NOT NULL DEFAULT '',
    content_type   TEXT    NOT NULL,
    content_id     TEXT    NOT NULL DEFAULT '',
    inline         INTEGER NOT NULL DEFAULT 0,
    size           INTEGER NOT NULL,
    data           BLOB,
    created_at     INTEGER NOT NULL
);
CREATE INDEX email_attachments_interaction ON email_attachments (interaction_id, position);

-- Where IMAP polling of a contact point's mailbox stands: UIDs above
-- last_uid are new while uid_validity stays the same.
CREATE TABLE email_mailboxes (
    contact_point_id INTEGER NOT NULL,
    mailbox          TEXT    NOT NULL,
    uid_validity     INTEGER NOT NULL,
    last_uid         INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (contact_point_id, mailbox)
) WITHOUT ROWID;

-- Outbound messages waiting for, or done with, their channel's sender. One
-- row per interaction. next_attempt_at is set while the delivery may still
-- be tried (queued, or claimed by a node until then) and NULL once sent or
-- failed for good.
CREATE TABLE outbound_deliveries (
    id                  INTEGER PRIMARY KEY,
    interaction_id      INTEGER NOT NULL UNIQUE,
    contact_point_id    INTEGER NOT NULL,
    channel             TEXT    NOT NULL,
    recipient           TEXT    NOT NULL DEFAULT '',
    state               TEXT    NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER,
    last_error          TEXT    NOT NULL DEFAULT '',
    provider_message_id TEXT    NOT NULL DEFAULT '',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX outbound_deliveries_due ON outbound_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
