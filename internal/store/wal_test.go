package store_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Under writes that never pause, the checkpointer's passive checkpoints never
// finish, and without the writer checkpointing itself the WAL was never
// started over: it grew by every byte written (70 GB filling a large store,
// until the disk was full). With the writer catching up past WALCatchUpMB,
// the WAL starts over about once a checkpointer tick. The test writes until
// the WAL's header says it has started over twice, or until 1 GB is written
// without that.
func TestWALStartsOverUnderSteadyWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("writes for seconds")
	}
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: dir, WALCatchUpMB: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 16<<10)
	rand.Read(body)
	wal := filepath.Join(dir, "touchpoint.db-wal")
	const limit = 1 << 30
	var written atomic.Int64
	var restarts atomic.Uint32
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	for range 2 { // two writers, so that the writer's queue never empties
		wg.Go(func() {
			for written.Load() < limit && restarts.Load() < 2 {
				err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
					for range 32 {
						if _, err := tx.Exec(ctx, "INSERT INTO filler (body) VALUES (?)", body); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errc <- err
					return
				}
				written.Add(32 * int64(len(body)))
				restarts.Store(walCheckpointSeq(t, wal))
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(wal)
	if err != nil {
		t.Fatal(err)
	}
	if restarts.Load() < 2 {
		t.Fatalf("the WAL was started over %d times in %d MB written; it is %d MB", restarts.Load(), written.Load()>>20, st.Size()>>20)
	}
	t.Logf("WAL started over twice in %d MB written; it is %d MB", written.Load()>>20, st.Size()>>20)
}

// walCheckpointSeq reads the checkpoint sequence number of a WAL file's
// header (bytes 12–15, big-endian), which SQLite increments each time it
// starts the WAL over.
func walCheckpointSeq(t *testing.T, path string) uint32 {
	f, err := os.Open(path)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer f.Close()
	var h [16]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		return 0 // no header yet
	}
	return binary.BigEndian.Uint32(h[12:])
}
