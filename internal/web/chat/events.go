package chat

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/channel/webchat"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

const (
	// heartbeat keeps idle streams open through proxies.
	heartbeat = 25 * time.Second
	// streamLife ends a stream now and then; EventSource reconnects, and the
	// token is checked again.
	streamLife = 15 * time.Minute
)

// events streams a conversation's messages (Server-Sent Events): on
// connect every message it has, then each new one. Bus events are only
// hints: on each, the history is read again from the store and what the
// stream has not sent yet goes out, so a lost event or a dropped connection
// loses no message.
func (h *Handler) events(w http.ResponseWriter, r *http.Request, p *webchat.Point, c *webchat.Conversation) {
	ctx := r.Context()
	topics, err := h.Chat.Topics(ctx, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sub := h.Bus.Subscribe(topics...)
	defer sub.Close()
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n: connected\n\n")
	sent := map[id.ID]bool{}
	// push writes the messages not sent yet; agent messages are then "sent".
	push := func() error {
		msgs, err := h.Chat.Messages(ctx, c)
		if err != nil {
			return err
		}
		var fresh []webchat.Message
		for _, m := range msgs {
			if sent[m.ID] {
				continue
			}
			b, _ := json.Marshal(m)
			if _, err := fmt.Fprintf(w, "event: message\ndata: %s\n\n", b); err != nil {
				return err
			}
			sent[m.ID] = true
			fresh = append(fresh, m)
		}
		if err := rc.Flush(); err != nil {
			return err
		}
		return h.Chat.Mark(ctx, fresh, webchat.StatusSent)
	}
	if err := push(); err != nil {
		h.Log.Debug("web chat stream", "conversation", c.ID, "err", err)
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	end := time.NewTimer(streamLife)
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			// A merge moves the customer's events to another topic.
			if now, err := h.Chat.Topics(ctx, c); err == nil && !slices.Equal(now, topics) {
				topics = now
				sub.Set(topics...)
				if err := push(); err != nil {
					return
				}
			}
		case e, ok := <-sub.C():
			if !ok {
				return
			}
			if e.Type == bus.TypeLagged {
				// Events were lost: the widget reconnects and gets everything.
				fmt.Fprint(w, "event: lagged\ndata: {}\n\n")
				rc.Flush()
				return
			}
			if !webchat.Concerns(e, p.ID) {
				continue
			}
			if e.Type == "webchat.changed" {
				// The conversation found its customer (or another): follow it.
				if c, err = h.Chat.Reload(ctx, c); err != nil {
					return
				}
				if now, err := h.Chat.Topics(ctx, c); err == nil && !slices.Equal(now, topics) {
					topics = now
					sub.Set(topics...)
				}
			}
			if err := push(); err != nil {
				h.Log.Debug("web chat stream", "conversation", c.ID, "err", err)
				return
			}
		}
	}
}
