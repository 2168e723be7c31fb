-- Routing (DESIGN §5): the queues, the agents' routing profiles and
-- presence, the work items the router offers and assigns, and the event log
-- the wallboard metrics are computed from. internal/routing owns these
-- tables; the `engine` columns hold the decision engine's own row
-- (internal/routing/engine State) so that a restart restores it exactly.

CREATE TABLE routing_queues (
    id                 BIGINT  PRIMARY KEY,
    name               TEXT    NOT NULL UNIQUE,
    spec               TEXT    NOT NULL DEFAULT '{}',
    open               BIGINT  NOT NULL DEFAULT 1,
    answered           BIGINT  NOT NULL DEFAULT 0,
    answered_in_target BIGINT  NOT NULL DEFAULT 0,
    abandoned          BIGINT  NOT NULL DEFAULT 0,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);

CREATE TABLE routing_agents (
    user_id         BIGINT  PRIMARY KEY REFERENCES users (id),
    spec            TEXT    NOT NULL DEFAULT '{}',
    presence        TEXT    NOT NULL DEFAULT 'offline',
    presence_reason TEXT    NOT NULL DEFAULT '',
    presence_since  BIGINT  NOT NULL,
    engine          TEXT    NOT NULL DEFAULT '{}',
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE TABLE work_items (
    id                 BIGINT  PRIMARY KEY,
    queue_id           BIGINT  NOT NULL REFERENCES routing_queues (id),
    channel            TEXT    NOT NULL,
    priority           BIGINT  NOT NULL DEFAULT 0,
    skills             TEXT    NOT NULL DEFAULT '{}',
    customer_id        BIGINT,
    case_id            BIGINT,
    interaction_id     BIGINT,
    preferred_agent_id BIGINT,
    state              TEXT    NOT NULL,
    agent_id           BIGINT,
    enqueued_at        BIGINT  NOT NULL,
    offered_at         BIGINT,
    assigned_at        BIGINT,
    ended_at           BIGINT,
    end_reason         TEXT    NOT NULL DEFAULT '',
    -- How the agent says the contact ended (after-contact work).
    disposition        TEXT    NOT NULL DEFAULT '',
    engine             TEXT    NOT NULL DEFAULT '{}',
    updated_at         BIGINT  NOT NULL
);
CREATE INDEX work_items_state_queue ON work_items (state, queue_id);

CREATE TABLE routing_events (
    id       BIGINT  PRIMARY KEY,
    seq      BIGINT  NOT NULL,
    at       BIGINT  NOT NULL,
    type     TEXT    NOT NULL,
    queue_id BIGINT,
    item_id  BIGINT,
    agent_id BIGINT,
    detail   TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX routing_events_at ON routing_events (at);
CREATE INDEX routing_events_item ON routing_events (item_id);
