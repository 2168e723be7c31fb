package main

import (
	"flag"
	"io"
	"net/http"

	"github.com/touchpoint-hub/touchpoint/internal/channel/segment"
)

// nullServer reads and decodes event batches exactly as Touchpoint's event API
// does, and stores nothing: the ceiling that ingest is compared with.
func nullServer(args []string) error {
	fs := flag.NewFlagSet("nullserver", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:18090", "listen address")
	fs.Parse(args)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/batch", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, segment.MaxBatchBytes+1))
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if _, _, ok := r.BasicAuth(); !ok {
			http.Error(w, "no write key", 401)
			return
		}
		if _, err := segment.DecodeBatch(body); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"success":true}`))
	})
	return http.ListenAndServe(*addr, mux)
}
