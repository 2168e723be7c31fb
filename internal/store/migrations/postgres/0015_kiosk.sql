-- Kiosk (issue 6): the sessions of store kiosks and their one-time sign-in
-- codes. internal/kiosk owns both tables.
--
-- A session is one visitor at one kiosk. The kiosk's browser holds a random
-- token in a cookie; only its SHA-256 is stored. A session ends on reset, or
-- lapses when idle past expires_at; either way nothing reads it again.
CREATE TABLE kiosk_sessions (
    id               BIGINT PRIMARY KEY,
    contact_point_id BIGINT NOT NULL REFERENCES contact_points (id),
    token_hash       TEXT    NOT NULL UNIQUE,
    customer_id      BIGINT,
    interaction_id   BIGINT,
    work_item_id     BIGINT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    ended_at         BIGINT
);

-- A code is stored as SHA-256 of a random salt and the six digits; it is
-- good for five minutes, once, and for at most five tries. Rows stay for the
-- rate limits per phone and per kiosk (counted over created_at).
CREATE TABLE kiosk_codes (
    id               BIGINT PRIMARY KEY,
    session_id       BIGINT NOT NULL REFERENCES kiosk_sessions (id),
    contact_point_id BIGINT NOT NULL,
    phone            TEXT    NOT NULL,
    customer_id      BIGINT NOT NULL,
    salt             TEXT    NOT NULL,
    code_hash        TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    used_at          BIGINT
);
CREATE INDEX kiosk_codes_session ON kiosk_codes (session_id, id);
CREATE INDEX kiosk_codes_phone ON kiosk_codes (phone, created_at);
CREATE INDEX kiosk_codes_kiosk ON kiosk_codes (contact_point_id, created_at);
