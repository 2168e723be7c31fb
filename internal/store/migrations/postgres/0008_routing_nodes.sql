-- Routing on several nodes (docs/routing.md "Several nodes"). One node runs
-- the router; the others hand their commands over through
-- routing_commands, which the router runs and answers. A command row is
-- durable: when the router stops before answering, the next one runs it.
-- routing_leader fences the router: taking over bumps the epoch, and every
-- write of the router checks it, so a router that lost its lock without
-- noticing can no longer write.

CREATE TABLE routing_commands (
    id         BIGINT  PRIMARY KEY,
    node       TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    done_at    BIGINT,
    -- The refusal as JSON ({"kind":"invalid","field":...,"reason":...});
    -- empty when the command succeeded.
    error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX routing_commands_pending ON routing_commands (id) WHERE done_at IS NULL;

CREATE TABLE routing_leader (
    id    BIGINT  PRIMARY KEY,
    epoch BIGINT  NOT NULL,
    node  TEXT    NOT NULL,
    since BIGINT  NOT NULL
);
INSERT INTO routing_leader (id, epoch, node, since) VALUES (1, 0, '', 0);
