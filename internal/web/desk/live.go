package desk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// topicsFor checks the topics a page asks to follow against what the viewer
// may read.
func topicsFor(v *viewer, raw string) ([]string, error) {
	var out []string
	for _, t := range strings.Split(raw, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		kind, val, _ := strings.Cut(t, ":")
		switch kind {
		case "inbox":
			if !v.User.Role.Can(access.ReadCases) {
				return nil, fmt.Errorf("topic %q is not allowed for your role", t)
			}
		case "case":
			if _, err := id.Parse(val); err != nil || !v.User.Role.Can(access.ReadCases) {
				return nil, fmt.Errorf("topic %q is not allowed", t)
			}
		case "customer":
			if _, err := id.Parse(val); err != nil || !v.User.Role.Can(access.ReadCustomers) {
				return nil, fmt.Errorf("topic %q is not allowed", t)
			}
		case "routing":
			if !v.User.Role.Can(access.RoutingRead) {
				return nil, fmt.Errorf("topic %q is not allowed for your role", t)
			}
		case "queue":
			if _, err := id.Parse(val); err != nil || !v.User.Role.Can(access.RoutingRead) {
				return nil, fmt.Errorf("topic %q is not allowed", t)
			}
		case "user":
			if val != v.User.ID.String() {
				return nil, fmt.Errorf("topic %q is another user's", t)
			}
		default:
			return nil, fmt.Errorf("unknown topic %q", t)
		}
		out = append(out, t)
		if len(out) > 20 {
			return nil, fmt.Errorf("at most 20 topics")
		}
	}
	return append(out, "user:"+v.User.ID.String()), nil
}

// heartbeat keeps idle connections open through proxies.
const heartbeat = 25 * time.Second

// events streams live events to a page (Server-Sent Events).
func (d *Desk) events(w http.ResponseWriter, r *http.Request, v *viewer) {
	topics, err := topicsFor(v, r.URL.Query().Get("topics"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	sub := d.Bus.Subscribe(topics...)
	defer sub.Close()
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n: connected\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case e, ok := <-sub.C():
			if !ok {
				return
			}
			b, _ := json.Marshal(struct {
				Type string          `json:"type"`
				Data json.RawMessage `json:"data,omitempty"`
				At   time.Time       `json:"at"`
			}{e.Type, e.Data, e.At})
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", sseName(e.Type), b); err != nil {
				return
			}
			if e.Type == bus.TypeLagged {
				rc.Flush()
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// sseName keeps event names to a safe alphabet.
func sseName(t string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' {
			return r
		}
		return -1
	}, t)
}

// Presence states a page reports.
var presenceStates = map[string]bool{"viewing": true, "typing": true, "left": true}

// presence tells the other pages open on a case that this agent is there,
// typing, or gone. It is not stored: pages repeat it while open and forget
// an agent whose reports stop.
func (d *Desk) presence(w http.ResponseWriter, r *http.Request, v *viewer) {
	caseID, err := pathID(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	state := r.FormValue("state")
	if !presenceStates[state] {
		http.Error(w, "state must be viewing, typing or left", http.StatusBadRequest)
		return
	}
	b, _ := json.Marshal(map[string]any{"case_id": caseID, "user_id": v.User.ID, "name": v.User.Name, "state": state})
	if err := d.Bus.Publish(r.Context(), bus.Event{Type: "presence", Topics: []string{"case:" + caseID.String()}, Data: b}); err != nil {
		http.Error(w, "could not tell the others", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
