-- Routing (DESIGN §5): the queues, the agents' routing profiles and
-- presence, the work items the router offers and assigns, and the event log
-- the wallboard metrics are computed from. internal/routing owns these
-- tables; the `engine` columns hold the decision engine's own row
-- (internal/routing/engine State) so that a restart restores it exactly.

CREATE TABLE routing_queues (
    id                 INTEGER PRIMARY KEY,
    name               TEXT    NOT NULL UNIQUE,
    spec               TEXT    NOT NULL DEFAULT '{}',
    open               INTEGER NOT NULL DEFAULT 1,
    answered           INTEGER NOT NULL DEFAULT 0,
    answered_in_target INTEGER NOT NULL DEFAULT 0,
    abandoned          INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE routing_agents (
    user_id         INTEGER PRIMARY KEY REFERENCES users (id),
    spec            TEXT    NOT NULL DEFAULT '{}',
    presence        TEXT    NOT NULL DEFAULT 'offline',
    presence_reason TEXT    NOT NULL DEFAULT '',
    presence_since  INTEGER NOT NULL,
    engine          TEXT    NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE work_items (
    id                 INTEGER PRIMARY KEY,
    queue_id           INTEGER NOT NULL REFERENCES routing_queues (id),
    channel            TEXT    NOT NULL,
    priority           INTEGER NOT NULL DEFAULT 0,
    skills             TEXT    NOT NULL DEFAULT '{}',
    customer_id        INTEGER,
    case_id            INTEGER,
    interaction_id     INTEGER,
    preferred_agent_id INTEGER,
    state              TEXT    NOT NULL,
    agent_id           INTEGER,
    enqueued_at        INTEGER NOT NULL,
    offered_at         INTEGER,
    assigned_at        INTEGER,
    ended_at           INTEGER,
    end_reason         TEXT    NOT NULL DEFAULT '',
    -- How the agent says the contact ended (after-contact work).
    disposition        TEXT    NOT NULL DEFAULT '',
    engine             TEXT    NOT NULL DEFAULT '{}',
    updated_at         INTEGER NOT NULL
);
CREATE INDEX work_items_state_queue ON work_items (state, queue_id);

CREATE TABLE routing_events (
    id       INTEGER PRIMARY KEY,
    seq      INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    type     TEXT    NOT NULL,
    queue_id INTEGER,
    item_id  INTEGER,
    agent_id INTEGER,
    detail   TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX routing_events_at ON routing_events (at);
CREATE INDEX routing_events_item ON routing_events (item_id);
