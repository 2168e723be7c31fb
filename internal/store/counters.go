package store

import (
	"context"
	"math/rand/v2"
)

// counterShards is how many rows a counter is spread over on PostgreSQL.
const counterShards = 16

// AddCounter adds delta to a running total inside the transaction, so that
// the total moves exactly with the rows it counts.
func (t *Tx) AddCounter(ctx context.Context, name string, delta int64) error {
	if delta == 0 {
		return nil
	}
	shard := 0
	if t.db.Dialect == Postgres {
		if t.shard == 0 {
			t.shard = 1 + rand.IntN(counterShards)
		}
		shard = t.shard - 1
	}
	_, err := t.Exec(ctx, `INSERT INTO counters (name, shard, value) VALUES (?, ?, ?)
		ON CONFLICT (name, shard) DO UPDATE SET value = counters.value + excluded.value`, name, shard, delta)
	return err
}

// Counter reads a running total.
func (db *DB) Counter(ctx context.Context, name string) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, "SELECT COALESCE(SUM(value), 0) FROM counters WHERE name = ?", name).Scan(&n)
	return n, err
}
