-- Faster knowledge search on SQLite (see internal/knowledge/search.go).
--
-- kb_terms is the vocabulary that expands the last word typed into the
-- whole words it begins ("shipp" -> shipped, shipping). It replaces
-- kb_words, whose fts5vocab view read the whole list of articles of every
-- word in the range to count them: 4 ms for "shipping" over 100,000
-- articles, where a B-tree range is microseconds. The knowledge service
-- adds the words of each version it publishes; words of withdrawn text stay
-- (they expand to alternatives that match nothing).
CREATE TABLE kb_terms (
    term TEXT PRIMARY KEY
) WITHOUT ROWID;
INSERT INTO kb_terms (term) SELECT term FROM kb_words_vocab;

-- kb_titles indexes the titles alone: a search for words in nearly every
-- article picks its page from title matches (pickMany), and a title-only
-- index has short lists where a column filter on kb_search would walk the
-- full ones.
CREATE VIRTUAL TABLE kb_titles USING fts5 (
    title,
    content = 'kb_article_versions', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO kb_titles (rowid, title) SELECT id, title FROM kb_article_versions WHERE status = 'published';

DROP TRIGGER kb_article_versions_index;
DROP TRIGGER kb_article_versions_unindex;
CREATE TRIGGER kb_article_versions_index AFTER UPDATE OF status ON kb_article_versions
WHEN new.status = 'published' AND old.status <> 'published'
BEGIN
    INSERT INTO kb_search (rowid, title, search_body) VALUES (new.id, new.title, new.search_body);
    INSERT INTO kb_titles (rowid, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER kb_article_versions_unindex AFTER UPDATE OF status ON kb_article_versions
WHEN old.status = 'published' AND new.status <> 'published'
BEGIN
    INSERT INTO kb_search (kb_search, rowid, title, search_body) VALUES ('delete', old.id, old.title, old.search_body);
    INSERT INTO kb_titles (kb_titles, rowid, title) VALUES ('delete', old.id, old.title);
END;
DROP TABLE kb_words_vocab;
DROP TABLE kb_words;
