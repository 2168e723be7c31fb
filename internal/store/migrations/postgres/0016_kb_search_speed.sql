-- The SQLite search gets a vocabulary table and a title index in 0016 (the
-- PostgreSQL title index is 0017);
-- PostgreSQL's tsvector search needs neither (prefixes are to_tsquery's
-- ':*'). Kept so both dialects have one sequence.
SELECT 1;
