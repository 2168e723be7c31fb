package app

import (
	"log/slog"
	"net/http"
)

// eventAPI is the Segment-compatible event API (wired once its adapter lands).
func eventAPI(s *Services, log *slog.Logger) registrarFunc {
	return func(mux *http.ServeMux) {}
}

type registrarFunc func(mux *http.ServeMux)

func (f registrarFunc) Register(mux *http.ServeMux) { f(mux) }
