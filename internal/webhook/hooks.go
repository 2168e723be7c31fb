package webhook

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Linker wraps the case linker of the interaction service: it runs inside
// the recording transaction, after the cases are linked, and emits
// interaction.created (and case.created for a case the contact opened) in
// that same transaction. This is the in-transaction hook that OnRecorded
// listeners, which run after commit, cannot give.
type Linker struct {
	Next     interaction.CaseLinker // the cases service; may be nil
	Webhooks *Service
}

// LinkCases implements interaction.CaseLinker.
func (l Linker) LinkCases(ctx context.Context, tx *store.Tx, stored []interaction.Recorded) error {
	if l.Next != nil {
		if err := l.Next.LinkCases(ctx, tx, stored); err != nil {
			return err
		}
	}
	// Most installations subscribe to no interaction events: then there is
	// nothing to encode (the event API stores thousands a second here).
	subs, err := activeSubscriptions(ctx, tx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(subs, func(s activeSub) bool {
		return matches(s.events, InteractionCreated) || matches(s.events, CaseCreated)
	}) {
		return nil
	}
	evs := make([]Event, 0, len(stored))
	for _, r := range stored {
		in := r.In
		data := map[string]any{
			"interaction_id": r.ID, "customer_id": r.CustomerID, "kind": in.Kind, "direction": in.Direction,
			"source": in.Source, "external_id": in.ExternalID,
		}
		if in.ContactPointID != 0 {
			data["contact_point_id"] = in.ContactPointID
		}
		if r.CaseID != 0 {
			data["case_id"] = r.CaseID
		}
		b, _ := json.Marshal(data)
		evs = append(evs, Event{ID: "interaction.created:" + r.ID.String(), Type: InteractionCreated, Data: b})
		if r.CaseOpened {
			evs = append(evs, caseCreated(r.CaseID, r.CustomerID, r.ID))
		}
	}
	return l.Webhooks.EmitEvents(ctx, tx, evs...)
}

// caseCreated has an id of its own per case: the live path (Follow) sees the
// same case opening and must not send it twice.
func caseCreated(caseID, customerID, interactionID id.ID) Event {
	data := map[string]any{"case_id": caseID, "customer_id": customerID}
	if interactionID != 0 {
		data["interaction_id"] = interactionID
	}
	b, _ := json.Marshal(data)
	return Event{ID: "case.created:" + caseID.String(), Type: CaseCreated, Data: b}
}

// busTypes maps the live events Follow turns into webhook events. Others
// are written inside their own transactions — interaction.created by
// Linker, routing's events by RoutingEvents — or are not webhooks
// (presence of viewers).
var busTypes = map[string]string{
	"case.created": CaseCreated,
	"case.updated": CaseUpdated,
	"case.note":    CaseNoteAdded,
	"case.sla":     CaseSLAChanged,
}

// followTopics are the topics that carry every case and routing event.
var followTopics = []string{"inbox"}

// Follow turns the case and routing events published on this node into
// deliveries until ctx ends. Only events whose Node is this node count, so
// that several nodes sharing a PostgreSQL bus do not each deliver them.
//
// These events are published after their transaction commits, so this path
// is not transactional: an event is lost if the node stops between the
// commit and the write here, or if more than the buffer arrives at once (the
// loss is logged). The owning packages can close that gap by calling Emit
// inside their transactions (see the webhooks tag of docs/openapi.yaml).
func (s *Service) Follow(ctx context.Context, b bus.Bus) {
	node := b.Node()
	queue := make(chan bus.Event, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.writeFollowed(ctx, queue)
	}()
	defer func() { <-done }()
	defer close(queue)
	for ctx.Err() == nil {
		sub := b.Subscribe(followTopics...)
		s.readFollowed(ctx, sub, node, queue)
		sub.Close()
		if ctx.Err() == nil {
			// Lagged or closed: take a fresh subscription after a breath.
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

func (s *Service) readFollowed(ctx context.Context, sub *bus.Subscription, node string, queue chan<- bus.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.C():
			if !ok {
				return
			}
			if e.Type == bus.TypeLagged {
				s.log.Warn("webhooks: fell behind the live events; some case or routing webhooks were not written")
				return
			}
			if e.Node != node || busTypes[e.Type] == "" {
				continue
			}
			select {
			case queue <- e:
			default:
				s.log.Warn("webhooks: outbox writer is behind; dropped a live event", "type", e.Type)
			}
		}
	}
}

// writeFollowed writes queued events in batches, one transaction each.
func (s *Service) writeFollowed(ctx context.Context, queue <-chan bus.Event) {
	batch := make([]Event, 0, 128)
	for e := range queue {
		batch = append(batch[:0], s.fromBus(e))
	fill:
		for len(batch) < cap(batch) {
			select {
			case e, ok := <-queue:
				if !ok {
					break fill
				}
				batch = append(batch, s.fromBus(e))
			default:
				break fill
			}
		}
		// The write outlives ctx a little: what was taken from the bus is
		// written even while the node shuts down.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := s.db.Write(wctx, func(ctx context.Context, tx *store.Tx) error { return s.EmitEvents(ctx, tx, batch...) })
		cancel()
		if err != nil {
			s.log.Error("webhooks: writing deliveries of live events", "events", len(batch), "err", err)
		}
	}
}

func (s *Service) fromBus(e bus.Event) Event {
	typ := busTypes[e.Type]
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	ev := Event{ID: "evt_" + s.db.IDs.New().String(), Type: typ, CreatedAt: e.At.UTC(), Data: data}
	if typ == CaseCreated {
		var c struct {
			CaseID id.ID `json:"case_id"`
		}
		if json.Unmarshal(data, &c) == nil && c.CaseID != 0 {
			ev.ID = "case.created:" + c.CaseID.String()
		}
	}
	return ev
}
