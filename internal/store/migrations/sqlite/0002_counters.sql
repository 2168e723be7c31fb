-- Running totals, so that GET /api/v1/stats does not count millions of rows.
-- Several shards per counter keep concurrent PostgreSQL writers from queueing
-- on one row; a total is the sum of its shards.
CREATE TABLE counters (
    name  TEXT   NOT NULL,
    shard INTEGER NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (name, shard)
);
INSERT INTO counters (name, shard, value) SELECT 'customers', 0, COUNT(*) FROM customers WHERE merged_into IS NULL;
INSERT INTO counters (name, shard, value) SELECT 'interactions', 0, COUNT(*) FROM interactions;
