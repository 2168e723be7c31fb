-- Knowledge base (issue 6): articles and facts with versions, full-text
-- search, content gaps and citations. internal/knowledge owns these tables.
--
-- A version moves draft → in_review → published → superseded. At most one
-- version of an article (or fact) is published, and at most one is open
-- (draft or in_review): partial unique indexes say so.
CREATE TABLE kb_articles (
    id         BIGINT PRIMARY KEY,
    slug       TEXT    NOT NULL,
    locale     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    UNIQUE (slug, locale)
);

CREATE TABLE kb_article_versions (
    id           BIGINT PRIMARY KEY, -- the search tables' rowid on SQLite
    article_id   BIGINT  NOT NULL REFERENCES kb_articles (id),
    version      BIGINT  NOT NULL,
    status       TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    search_body  TEXT    NOT NULL, -- body as plain text, fact tags kept
    category     TEXT    NOT NULL DEFAULT '',
    audience     TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_by   TEXT    NOT NULL,
    updated_at   BIGINT  NOT NULL,
    submitted_by TEXT    NOT NULL DEFAULT '',
    submitted_at BIGINT,
    published_by TEXT    NOT NULL DEFAULT '',
    published_at BIGINT,
    superseded_at BIGINT,
    UNIQUE (article_id, version)
);
CREATE UNIQUE INDEX kb_article_versions_published ON kb_article_versions (article_id) WHERE status = 'published';
CREATE UNIQUE INDEX kb_article_versions_open ON kb_article_versions (article_id) WHERE status IN ('draft', 'in_review');

-- Search: a stored tsvector, generated from the row, with a GIN index over
-- the published versions only. 'english' stems; the 'simple' lexemes keep
-- whole words so that the last word typed can match as a prefix ("shipp:*"
-- finds "shipping", which 'english' stored as "ship"). Title weighs A, body B.
ALTER TABLE kb_article_versions ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') ||
    setweight(to_tsvector('english', search_body), 'B') ||
    setweight(to_tsvector('simple', title), 'A') ||
    setweight(to_tsvector('simple', search_body), 'B')
) STORED;
CREATE INDEX kb_article_versions_search ON kb_article_versions USING GIN (search) WHERE status = 'published';

-- Facts: named short answers. locale '' is the default for every locale.
CREATE TABLE kb_facts (
    id         BIGINT PRIMARY KEY,
    name       TEXT    NOT NULL,
    locale     TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    UNIQUE (name, locale)
);

CREATE TABLE kb_fact_versions (
    id           BIGINT PRIMARY KEY,
    fact_id      BIGINT  NOT NULL REFERENCES kb_facts (id),
    version      BIGINT  NOT NULL,
    status       TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    note         TEXT    NOT NULL DEFAULT '',
    created_by   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_by   TEXT    NOT NULL,
    updated_at   BIGINT  NOT NULL,
    submitted_by TEXT    NOT NULL DEFAULT '',
    submitted_at BIGINT,
    published_by TEXT    NOT NULL DEFAULT '',
    published_at BIGINT,
    superseded_at BIGINT,
    UNIQUE (fact_id, version)
);
CREATE UNIQUE INDEX kb_fact_versions_published ON kb_fact_versions (fact_id) WHERE status = 'published';
CREATE UNIQUE INDEX kb_fact_versions_open ON kb_fact_versions (fact_id) WHERE status IN ('draft', 'in_review');

-- Who did what to which version, in order.
CREATE TABLE kb_events (
    id        BIGINT PRIMARY KEY,
    kind      TEXT    NOT NULL, -- article or fact
    target_id BIGINT  NOT NULL,
    version   BIGINT  NOT NULL,
    action    TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    at        BIGINT  NOT NULL
);
CREATE INDEX kb_events_target ON kb_events (kind, target_id, id);

-- Searches that found nothing.
CREATE TABLE kb_gaps (
    query      TEXT    NOT NULL,
    audience   TEXT    NOT NULL,
    locale     TEXT    NOT NULL,
    searches   BIGINT  NOT NULL,
    first_seen BIGINT  NOT NULL,
    last_seen  BIGINT  NOT NULL,
    PRIMARY KEY (query, audience, locale)
);
CREATE INDEX kb_gaps_last_seen ON kb_gaps (last_seen);

-- What an interaction cited: an article or a fact, at a version.
CREATE TABLE kb_citations (
    id               BIGINT PRIMARY KEY,
    interaction_id   BIGINT  NOT NULL REFERENCES interactions (id),
    customer_id      BIGINT  NOT NULL,
    contact_point_id BIGINT,
    kind             TEXT    NOT NULL,
    target_id        BIGINT  NOT NULL,
    name             TEXT    NOT NULL, -- fact name or article slug
    locale           TEXT    NOT NULL,
    version          BIGINT  NOT NULL,
    cited_at         BIGINT  NOT NULL,
    UNIQUE (interaction_id, kind, target_id, version)
);
CREATE INDEX kb_citations_name ON kb_citations (kind, name, cited_at);
CREATE INDEX kb_citations_cited_at ON kb_citations (cited_at);
