package webhook

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// routingTypes maps the routing engine's events to webhook event types.
var routingTypes = map[engine.EventKind]string{
	engine.KindItemQueued:      WorkItemQueued,
	engine.KindOfferMade:       OfferMade,
	engine.KindOfferAccepted:   OfferAccepted,
	engine.KindOfferDeclined:   OfferDeclined,
	engine.KindOfferTimedOut:   OfferTimedOut,
	engine.KindItemAssigned:    WorkItemAssigned,
	engine.KindItemCompleted:   WorkItemCompleted,
	engine.KindItemAbandoned:   WorkItemAbandoned,
	engine.KindPresenceChanged: AgentPresenceChanged,
}

// RoutingEvents writes the webhooks of routing events inside the router's
// transaction (routing.Service.SetWriteHook), so they are as durable as the
// routing change itself. The event id is the engine's sequence number,
// which no two routers share.
func (s *Service) RoutingEvents(ctx context.Context, tx *store.Tx, evs []engine.Event) error {
	out := make([]Event, 0, len(evs))
	for _, ev := range evs {
		typ := routingTypes[ev.Kind()]
		if typ == "" {
			continue
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		h := ev.Header()
		out = append(out, Event{ID: "routing:" + strconv.FormatUint(h.Seq, 10), Type: typ, CreatedAt: h.At, Data: b})
	}
	return s.EmitEvents(ctx, tx, out...)
}
