-- Web chat (issue 5): the visitors' conversations. internal/channel/webchat
-- owns the table. (The widget secret that signs user ids is a contact point
-- secret, internal/contactpoint.)
--
-- A conversation is what one browser's widget started. The visitor holds a
-- random token (in localStorage); only its SHA-256 is stored. customer_id is
-- set by the first message; user_id only once user_hash was checked.
CREATE TABLE webchat_conversations (
    id               BIGINT  PRIMARY KEY,
    contact_point_id BIGINT  NOT NULL REFERENCES contact_points (id),
    token_hash       TEXT    NOT NULL UNIQUE,
    customer_id      BIGINT,
    user_id          TEXT    NOT NULL DEFAULT '',
    name             TEXT    NOT NULL DEFAULT '',
    email            TEXT    NOT NULL DEFAULT '',
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
