-- PostgreSQL's title index for knowledge search; SQLite has had kb_titles
-- since 0016. Kept so both dialects have one sequence.
SELECT 1;
