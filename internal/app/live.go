package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

// publishInteractions tells open pages about new contacts. Passive touches
// (page views, ad exposures) are not sent live: at ingest rates they would
// flood every open customer page and, with PostgreSQL, the NOTIFY channel;
// they show on the next load.
func (s *Services) publishInteractions(ctx context.Context, stored []interaction.Recorded) {
	now := time.Now().UTC()
	for _, r := range stored {
		if r.In.Direction == interaction.Passive && r.CaseID == 0 {
			continue
		}
		data := map[string]any{
			"interaction_id": r.ID, "customer_id": r.CustomerID, "kind": r.In.Kind, "direction": r.In.Direction,
		}
		topics := []string{"customer:" + r.CustomerID.String()}
		if r.CaseID != 0 {
			data["case_id"] = r.CaseID
			topics = append(topics, "case:"+r.CaseID.String(), "inbox")
		}
		if r.In.ContactPointID != 0 {
			data["contact_point_id"] = r.In.ContactPointID
		}
		b, _ := json.Marshal(data)
		if err := s.Bus.Publish(ctx, bus.Event{Type: "interaction.created", Topics: topics, Data: b, At: now}); err != nil {
			s.Log.Warn("publishing a new interaction", "interaction", r.ID, "err", err)
		}
		if r.CaseOpened {
			cb, _ := json.Marshal(map[string]any{"case_id": r.CaseID, "customer_id": r.CustomerID})
			_ = s.Bus.Publish(ctx, bus.Event{Type: "case.created", Topics: []string{"inbox", "case:" + r.CaseID.String(), "customer:" + r.CustomerID.String()}, Data: cb, At: now})
		}
	}
}
