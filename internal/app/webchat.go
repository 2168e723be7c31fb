package app

import (
	"log/slog"

	"github.com/touchpoint-hub/touchpoint/internal/web/chat"
	"github.com/touchpoint-hub/touchpoint/internal/web/ratelimit"
)

// chatHandler is the chat widget's public API (/chat/v1) and script
// (/widget.js). Its limits are per client address (a whole office behind
// one address shares them, hence generous) and per conversation.
func chatHandler(s *Services, log *slog.Logger) *chat.Handler {
	return &chat.Handler{Log: log, Chat: s.WebChat, Bus: s.Bus,
		PerAddress: ratelimit.New(20, 60),
		PerVisitor: ratelimit.New(1, 10),
		Starts:     ratelimit.New(0.2, 10),
	}
}
