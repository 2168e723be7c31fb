package app

import (
	"log/slog"

	"github.com/touchpoint-hub/touchpoint/internal/channel/segment"
)

// eventAPI is the Segment-compatible event API (/v1/...).
func eventAPI(s *Services, log *slog.Logger) *segment.Handler {
	return &segment.Handler{Points: s.ContactPoints, Recorder: s.Interactions, Log: log}
}
