-- How far the store has applied each ingest journal (internal/journal):
-- the event API acknowledges a batch once it is in the journal, and the
-- applier records here, in the same transaction as the batch's rows, the
-- last journal record it stored. A journal is named by the random id it was
-- created with, so a wiped journal directory is never taken for the old one.
CREATE TABLE ingest_journals (
    journal_id  TEXT PRIMARY KEY,
    applied_seq BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
