-- Knowledge base (issue 6): articles and facts with versions, full-text
-- search, content gaps and citations. internal/knowledge owns these tables.
--
-- A version moves draft → in_review → published → superseded. At most one
-- version of an article (or fact) is published, and at most one is open
-- (draft or in_review): partial unique indexes say so.
CREATE TABLE kb_articles (
    id         INTEGER PRIMARY KEY,
    slug       TEXT    NOT NULL,
    locale     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (slug, locale)
);

CREATE TABLE kb_article_versions (
    id           INTEGER PRIMARY KEY, -- the rowid of the search tables
    article_id   INTEGER NOT NULL REFERENCES kb_articles (id),
    version      INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    search_body  TEXT    NOT NULL, -- body as plain text, fact tags kept
    category     TEXT    NOT NULL DEFAULT '',
    audience     TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_by   TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL,
    submitted_by TEXT    NOT NULL DEFAULT '',
    submitted_at INTEGER,
    published_by TEXT    NOT NULL DEFAULT '',
    published_at INTEGER,
    superseded_at INTEGER,
    UNIQUE (article_id, version)
);
CREATE UNIQUE INDEX kb_article_versions_published ON kb_article_versions (article_id) WHERE status = 'published';
CREATE UNIQUE INDEX kb_article_versions_open ON kb_article_versions (article_id) WHERE status IN ('draft', 'in_review');

-- Search: FTS5 over the published versions only (external content, so the
-- text is stored once). kb_search stems (porter); kb_words does not and
-- exists for its vocabulary, which expands the last word typed into the
-- whole words it begins (a porter index cannot match "shipp*" to "ship").
CREATE VIRTUAL TABLE kb_search USING fts5 (
    title, search_body,
    content = 'kb_article_versions', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE kb_words USING fts5 (
    title, search_body,
    content = 'kb_article_versions', content_rowid = 'id', detail = none,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE kb_words_vocab USING fts5vocab (kb_words, 'row');

-- The index follows the status in the transaction that changes it.
-- Published text never changes (the guard below), so the 'delete' command
-- is always given the values that were indexed.
CREATE TRIGGER kb_article_versions_immutable BEFORE UPDATE OF title, body, search_body, category, audience ON kb_article_versions
WHEN old.status IN ('published', 'superseded')
BEGIN
    SELECT RAISE(ABORT, 'published versions are immutable');
END;
CREATE TRIGGER kb_article_versions_index AFTER UPDATE OF status ON kb_article_versions
WHEN new.status = 'published' AND old.status <> 'published'
BEGIN
    INSERT INTO kb_search (rowid, title, search_body) VALUES (new.id, new.title, new.search_body);
    INSERT INTO kb_words (rowid, title, search_body) VALUES (new.id, new.title, new.search_body);
END;
CREATE TRIGGER kb_article_versions_unindex AFTER UPDATE OF status ON kb_article_versions
WHEN old.status = 'published' AND new.status <> 'published'
BEGIN
    INSERT INTO kb_search (kb_search, rowid, title, search_body) VALUES ('delete', old.id, old.title, old.search_body);
    INSERT INTO kb_words (kb_words, rowid, title, search_body) VALUES ('delete', old.id, old.title, old.search_body);
END;

-- Facts: named short answers. locale '' is the default for every locale.
CREATE TABLE kb_facts (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    locale     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (name, locale)
);

CREATE TABLE kb_fact_versions (
    id           INTEGER PRIMARY KEY,
    fact_id      INTEGER NOT NULL REFERENCES kb_facts (id),
    version      INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    note         TEXT    NOT NULL DEFAULT '',
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_by   TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL,
    submitted_by TEXT    NOT NULL DEFAULT '',
    submitted_at INTEGER,
    published_by TEXT    NOT NULL DEFAULT '',
    published_at INTEGER,
    superseded_at INTEGER,
    UNIQUE (fact_id, version)
);
CREATE UNIQUE INDEX kb_fact_versions_published ON kb_fact_versions (fact_id) WHERE status = 'published';
CREATE UNIQUE INDEX kb_fact_versions_open ON kb_fact_versions (fact_id) WHERE status IN ('draft', 'in_review');

-- Who did what to which version, in order.
CREATE TABLE kb_events (
    id        INTEGER PRIMARY KEY,
    kind      TEXT    NOT NULL, -- article or fact
    target_id INTEGER NOT NULL,
    version   INTEGER NOT NULL,
    action    TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX kb_events_target ON kb_events (kind, target_id, id);

-- Searches that found nothing.
CREATE TABLE kb_gaps (
    query      TEXT    NOT NULL,
    audience   TEXT    NOT NULL,
    locale     TEXT    NOT NULL,
    searches   INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (query, audience, locale)
);
CREATE INDEX kb_gaps_last_seen ON kb_gaps (last_seen);

-- What an interaction cited: an article or a fact, at a version.
CREATE TABLE kb_citations (
    id               INTEGER PRIMARY KEY,
    interaction_id   INTEGER NOT NULL REFERENCES interactions (id),
    customer_id      INTEGER NOT NULL,
    contact_point_id INTEGER,
    kind             TEXT    NOT NULL,
    target_id        INTEGER NOT NULL,
    name             TEXT    NOT NULL, -- fact name or article slug
    locale           TEXT    NOT NULL,
    version          INTEGER NOT NULL,
    cited_at         INTEGER NOT NULL,
    UNIQUE (interaction_id, kind, target_id, version)
);
CREATE INDEX kb_citations_name ON kb_citations (kind, name, cited_at);
CREATE INDEX kb_citations_cited_at ON kb_citations (cited_at);
