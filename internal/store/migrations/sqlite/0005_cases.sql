-- Cases: one customer need across contacts and days (DESIGN §4), with
-- their history, internal notes, SLA clocks, the contact-reason taxonomy and
-- canned responses.

CREATE TABLE contact_reasons (
    code        TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    position    INTEGER NOT NULL DEFAULT 0,
    disabled_at INTEGER,
    created_at  INTEGER NOT NULL
);

CREATE TABLE business_calendars (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    timezone   TEXT    NOT NULL,
    week       TEXT    NOT NULL DEFAULT '{}',
    holidays   TEXT    NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- An SLA policy applies to cases of a priority ('' = any) and a team
-- (NULL = any); the most specific enabled policy wins.
CREATE TABLE sla_policies (
    id               INTEGER PRIMARY KEY,
    name             TEXT    NOT NULL,
    priority         TEXT    NOT NULL DEFAULT '',
    team_id          INTEGER REFERENCES teams (id),
    calendar_id      INTEGER REFERENCES business_calendars (id),
    first_response_s INTEGER NOT NULL DEFAULT 0,
    next_response_s  INTEGER NOT NULL DEFAULT 0,
    resolution_s     INTEGER NOT NULL DEFAULT 0,
    warn_percent     INTEGER NOT NULL DEFAULT 80,
    disabled_at      INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE cases (
    id                 INTEGER PRIMARY KEY,
    customer_id        INTEGER NOT NULL REFERENCES customers (id),
    subject            TEXT    NOT NULL,
    reason             TEXT    NOT NULL DEFAULT '',
    status             TEXT    NOT NULL,
    priority           TEXT    NOT NULL,
    team_id            INTEGER REFERENCES teams (id),
    owner_id           INTEGER REFERENCES users (id),
    contact_point_id   INTEGER REFERENCES contact_points (id),
    channel            TEXT    NOT NULL DEFAULT '',
    tags               TEXT    NOT NULL DEFAULT '[]',
    resolution         TEXT    NOT NULL DEFAULT '',
    merged_into        INTEGER REFERENCES cases (id),
    interaction_count  INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    last_inbound_at    INTEGER,
    last_outbound_at   INTEGER,
    first_response_at  INTEGER,
    resolved_at        INTEGER,
    closed_at          INTEGER,
    sla_policy_id      INTEGER REFERENCES sla_policies (id),
    first_response_due INTEGER,
    next_response_due  INTEGER,
    resolution_due     INTEGER,
    sla_state          TEXT    NOT NULL DEFAULT 'none',
    sla_paused_at      INTEGER,
    sla_breached_at    INTEGER,
    sla_check_at       INTEGER,
    version            INTEGER NOT NULL DEFAULT 1,
    -- 1 while the status is new, open or waiting: the inbox index leads
    -- with it (an IN list of statuses cannot be read in updated order).
    is_open            INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX cases_customer ON cases (customer_id, status);
CREATE INDEX cases_open ON cases (is_open, updated_at, id);
CREATE INDEX cases_owner ON cases (owner_id, is_open, updated_at, id);
CREATE INDEX cases_team ON cases (team_id, is_open, updated_at, id) WHERE team_id IS NOT NULL;
CREATE INDEX cases_sla_check ON cases (sla_check_at) WHERE sla_check_at IS NOT NULL;

CREATE TABLE case_tags (
    tag     TEXT    NOT NULL,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    PRIMARY KEY (tag, case_id)
) WITHOUT ROWID;

-- The history of a case: who changed what, when.
CREATE TABLE case_events (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    at         INTEGER NOT NULL,
    actor_id   INTEGER,
    actor_name TEXT    NOT NULL DEFAULT '',
    kind       TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_case ON case_events (case_id, id);

CREATE TABLE case_notes (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    author_id   INTEGER,
    author_name TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (case_id, created_at);

CREATE TABLE canned_responses (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    shortcut   TEXT    NOT NULL DEFAULT '',
    body       TEXT    NOT NULL,
    team_id    INTEGER REFERENCES teams (id),
    created_by TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Interactions on a case, for the case's own timeline; page views and other
-- passive touches carry no case and stay out of this index.
CREATE INDEX interactions_case ON interactions (case_id, occurred_at, id) WHERE case_id IS NOT NULL;
-- Replies from the desk: queued until a channel adapter delivers them.
ALTER TABLE interactions ADD COLUMN delivery_status TEXT NOT NULL DEFAULT '';
-- The desk's customer panel: the last rating and the lifetime value, read
-- without walking a customer's whole history. Page views carry neither, so
-- ingest does not pay for these.
CREATE INDEX interactions_rated ON interactions (customer_id, occurred_at) WHERE rating IS NOT NULL;
CREATE INDEX interactions_valued ON interactions (customer_id) WHERE value_minor IS NOT NULL;
