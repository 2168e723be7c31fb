-- Times are unix microseconds (UTC); ids are time-sortable int64 (internal/id);
-- JSON documents are TEXT. The PostgreSQL twin lives in ../postgres.

CREATE TABLE contact_points (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    online         INTEGER NOT NULL,
    journey_stages TEXT    NOT NULL DEFAULT '[]',
    contact_level  TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    settings       TEXT    NOT NULL DEFAULT '{}',
    write_key_hash TEXT UNIQUE,
    write_key_hint TEXT    NOT NULL DEFAULT '',
    disabled_at    INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE customers (
    id             INTEGER PRIMARY KEY,
    root_id        INTEGER NOT NULL,
    merged_into    INTEGER REFERENCES customers (id),
    merged_at      INTEGER,
    kind           TEXT    NOT NULL DEFAULT 'person',
    name           TEXT    NOT NULL DEFAULT '',
    traits         TEXT    NOT NULL DEFAULT '{}',
    consent        TEXT    NOT NULL DEFAULT '{}',
    journey_stage  TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL
);
CREATE INDEX customers_root ON customers (root_id);
CREATE INDEX customers_merged_into ON customers (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE customer_name_tokens (
    token       TEXT    NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    PRIMARY KEY (token, customer_id)
) WITHOUT ROWID;
CREATE INDEX customer_name_tokens_customer ON customer_name_tokens (customer_id);

CREATE TABLE identifiers (
    kind        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    source      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE INDEX identifiers_customer ON identifiers (customer_id);

CREATE TABLE customer_merges (
    id           INTEGER PRIMARY KEY,
    survivor_id  INTEGER NOT NULL REFERENCES customers (id),
    merged_id    INTEGER NOT NULL REFERENCES customers (id),
    cause        TEXT    NOT NULL,
    cause_kind   TEXT    NOT NULL DEFAULT '',
    cause_value  TEXT    NOT NULL DEFAULT '',
    source       TEXT    NOT NULL DEFAULT '',
    actor        TEXT    NOT NULL DEFAULT '',
    merged_at    INTEGER NOT NULL,
    undone_at    INTEGER,
    undone_by    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX customer_merges_survivor ON customer_merges (survivor_id);
CREATE INDEX customer_merges_merged ON customer_merges (merged_id);

-- Pairs that must not be merged again (set when a merge is undone).
CREATE TABLE customer_merge_blocks (
    a INTEGER NOT NULL REFERENCES customers (id),
    b INTEGER NOT NULL REFERENCES customers (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;

-- Identifiers that were not followed because of a guard, for review.
CREATE TABLE identity_conflicts (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    other_id    INTEGER REFERENCES customers (id),
    rule        TEXT    NOT NULL,
    source      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE TABLE interactions (
    id               INTEGER PRIMARY KEY,
    customer_id      INTEGER NOT NULL REFERENCES customers (id),
    contact_point_id INTEGER REFERENCES contact_points (id),
    kind             TEXT    NOT NULL,
    direction        TEXT    NOT NULL,
    occurred_at      INTEGER NOT NULL,
    duration_ms      INTEGER,
    staff_id         INTEGER,
    staff_name       TEXT    NOT NULL DEFAULT '',
    case_id          INTEGER,
    reason           TEXT    NOT NULL DEFAULT '',
    outcome          TEXT    NOT NULL DEFAULT '',
    subject          TEXT    NOT NULL DEFAULT '',
    content          TEXT    NOT NULL DEFAULT '',
    summary          TEXT    NOT NULL DEFAULT '',
    sentiment        REAL,
    rating           INTEGER,
    value_minor      INTEGER,
    currency         TEXT    NOT NULL DEFAULT '',
    campaign         TEXT    NOT NULL DEFAULT '',
    campaign_source  TEXT    NOT NULL DEFAULT '',
    campaign_medium  TEXT    NOT NULL DEFAULT '',
    campaign_term    TEXT    NOT NULL DEFAULT '',
    campaign_content TEXT    NOT NULL DEFAULT '',
    promo_code       TEXT    NOT NULL DEFAULT '',
    journey_stage    TEXT    NOT NULL DEFAULT '',
    properties       TEXT    NOT NULL DEFAULT '{}',
    source           TEXT    NOT NULL,
    external_id      TEXT,
    received_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX interactions_source_external ON interactions (source, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX interactions_timeline ON interactions (customer_id, occurred_at, id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL DEFAULT '',
    disabled_at   INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    hint         TEXT    NOT NULL,
    user_id      INTEGER REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    subject_kind TEXT    NOT NULL DEFAULT '',
    subject_id   INTEGER,
    detail       TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject ON audit_log (subject_kind, subject_id);

-- Segment-style events that carry no interaction (identify, group, alias) are
-- deduplicated on messageId here.
CREATE TABLE processed_events (
    source     TEXT    NOT NULL,
    message_id TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (source, message_id)
) WITHOUT ROWID;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
