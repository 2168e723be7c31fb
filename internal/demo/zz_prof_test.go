package demo

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

func TestZZProf(t *testing.T) {
	if os.Getenv("ZZPROF") == "" {
		t.Skip()
	}
	ctx := context.Background()
	dir := "/tmp/zzdemo"
	os.RemoveAll(dir)
	os.MkdirAll(dir, 0o755)
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := app.NewServices(db, "US")
	began := time.Now()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sum, err := Fill(ctx, s, Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v took %s", *sum, time.Since(began))
}
