package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func TestMigrationsApplyOnceAndAgree(t *testing.T) {
	sq, _ := store.Migrations(store.SQLite)
	pg, _ := store.Migrations(store.Postgres)
	if len(sq) == 0 || len(sq) != len(pg) {
		t.Fatalf("dialects must have the same migration sequence: sqlite %d, postgres %d", len(sq), len(pg))
	}
	for i := range sq {
		if sq[i].Version != pg[i].Version {
			t.Fatalf("migration %d: sqlite version %d, postgres %d", i, sq[i].Version, pg[i].Version)
		}
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		v, err := db.SchemaVersion(context.Background())
		if err != nil || v != sq[len(sq)-1].Version {
			t.Fatalf("schema version %d (%v), want %d", v, err, sq[len(sq)-1].Version)
		}
	})
}

func TestReopenKeepsDataAndSkipsMigrations(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?)", "k", "v")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", "k").Scan(&v); err != nil || v != "v" {
		t.Fatalf("after reopen got %q, %v", v, err)
	}
}

// A failing write in a group must roll back only itself; the others commit.
func TestConcurrentWritesAreIsolated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n = 200
		var wg sync.WaitGroup
		errsOut := make([]error, n)
		boom := errors.New("boom")
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				errsOut[i] = db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
					if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?)", "k"+strconv.Itoa(i), "v"); err != nil {
						return err
					}
					if i%7 == 0 {
						return boom
					}
					return nil
				})
			}(i)
		}
		wg.Wait()
		want := 0
		for i, err := range errsOut {
			if i%7 == 0 {
				if !errors.Is(err, boom) {
					t.Fatalf("write %d: got %v, want boom", i, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
			want++
		}
		var got int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM settings").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%d rows committed, want %d", got, want)
		}
	})
}

func TestUniqueViolationIsRecognised(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ins := func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?)", "same", "v")
			return err
		}
		if err := db.Write(ctx, ins); err != nil {
			t.Fatal(err)
		}
		err := db.Write(ctx, ins)
		if !store.IsUniqueViolation(err) {
			t.Fatalf("second insert: %v, want a unique violation", err)
		}
	})
}

func TestSQLiteSettings(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	pragma := func(q interface {
		QueryRow(context.Context, string, ...any) *sql.Row
	}, name string) string {
		var v string
		if err := q.QueryRow(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	for name, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "query_only": "1", "synchronous": "1"} {
		if got := pragma(db, name); got != want {
			t.Errorf("reader %s = %s, want %s", name, got, want)
		}
	}
	err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		for name, want := range map[string]string{"foreign_keys": "1", "query_only": "0", "wal_autocheckpoint": "0", "synchronous": "1"} {
			if got := pragma(tx, name); got != want {
				t.Errorf("writer %s = %s, want %s", name, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(ctx, "INSERT INTO settings (key, value) VALUES ('x', 'y')"); err == nil {
		t.Error("a reader connection accepted a write")
	}
	// Foreign keys are enforced on writes.
	err = db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO identifiers (kind, value, customer_id, created_at) VALUES ('email', 'a@example.com', 999, 0)")
		return err
	})
	if err == nil {
		t.Error("an identifier of a missing customer was stored")
	}
}

// Reads repeated on the reader pool (prepared from their second time on,
// on SQLite) see every write committed before them, and a query that does
// not parse is an error, not a cached failure.
func TestRepeatedReadsSeeNewWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for n := 1; n <= 5; n++ {
			err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO counters (name, shard, value) VALUES (?, 0, ?)", "reads-"+strconv.Itoa(n), n)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var count, sum int
			if err := db.QueryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(value), 0) FROM counters WHERE name LIKE 'reads-%'").Scan(&count, &sum); err != nil {
				t.Fatal(err)
			}
			if count != n || sum != n*(n+1)/2 {
				t.Fatalf("after %d writes the read saw %d rows summing to %d", n, count, sum)
			}
			rows, err := db.Query(ctx, "SELECT value FROM counters WHERE name = ?", "reads-"+strconv.Itoa(n))
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for rows.Next() {
				if err := rows.Scan(&got); err != nil {
					t.Fatal(err)
				}
			}
			rows.Close()
			if got != n {
				t.Fatalf("read %d for the row just written, want %d", got, n)
			}
			if _, err := db.Query(ctx, "SELECT nothing FROM nowhere"); err == nil {
				t.Fatal("a query on a missing table did not fail")
			}
		}
	})
}
