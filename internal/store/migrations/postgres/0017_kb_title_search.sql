-- Faster knowledge search (see internal/knowledge/search.go). A search
-- for words in nearly every article picks its page from title matches
-- (pickMany). The title's lexemes are stored, like search's: an index on
-- the expression left PostgreSQL computing to_tsvector on every title it
-- read (58 ms for a word in most titles). 'english' stems, 'simple' whole
-- words for the prefix of the last word.
ALTER TABLE kb_article_versions ADD COLUMN title_search tsvector GENERATED ALWAYS AS (
    to_tsvector('english', title) || to_tsvector('simple', title)
) STORED;
CREATE INDEX kb_article_versions_title_search ON kb_article_versions USING GIN (title_search) WHERE status = 'published';
