-- Faster knowledge search (see internal/knowledge/search.go). A search
-- for words in nearly every article picks its page from title matches
-- (pickMany); this index finds them without reading the body's lexemes.
-- Its expression is titleVector in search.go: the 'english' stems and the
-- 'simple' whole words, for the prefix of the last word.
CREATE INDEX kb_article_versions_title_search ON kb_article_versions
    USING GIN ((to_tsvector('english', title) || to_tsvector('simple', title))) WHERE status = 'published';
