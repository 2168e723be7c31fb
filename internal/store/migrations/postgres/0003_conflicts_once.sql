-- A refused link is kept once, not once per event that repeats it (a shared
-- family email would otherwise add a row on every contact).
DELETE FROM identity_conflicts WHERE id NOT IN (
    SELECT MIN(id) FROM identity_conflicts GROUP BY kind, value, customer_id, COALESCE(other_id, 0), rule);
CREATE UNIQUE INDEX identity_conflicts_once ON identity_conflicts (kind, value, customer_id, (COALESCE(other_id, 0)), rule);
