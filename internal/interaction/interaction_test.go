package interaction_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

type fixture struct {
	db           *store.DB
	customers    *customer.Service
	interactions *interaction.Service
	phone, store id.ID
	web          id.ID
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, customers: customer.NewService(db, "US")}
	f.interactions = interaction.NewService(db, f.customers)
	cps := contactpoint.NewService(db)
	mk := func(kind contactpoint.Kind, name string) id.ID {
		c, err := cps.Create(context.Background(), contactpoint.Spec{Kind: &kind, Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	f.phone, f.store, f.web = mk("phone", "Support line"), mk("store", "Main Street store"), mk("website", "Web shop")
	return f
}

func email(v string) []customer.RawIdentifier {
	return []customer.RawIdentifier{{Kind: "email", Value: v}}
}

func TestRecordIsIdempotentAndAtomic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		in := interaction.Input{Identifiers: email("ann@example.com"), ContactPointID: f.phone, Kind: "call",
			Source: "pbx", ExternalID: "call-1", DurationMS: ptr(int64(90000)), Reason: "delivery_time",
			Value: &interaction.Money{Minor: 1999, Currency: "EUR"}, Campaign: interaction.Campaign{Name: "spring", Source: "print"}}
		first, err := f.interactions.Record(ctx, []interaction.Input{in})
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.interactions.Record(ctx, []interaction.Input{in, in})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range again {
			if !r.Duplicate || r.ID != first[0].ID || r.CustomerID != first[0].CustomerID {
				t.Fatalf("replay gave %+v, want duplicate of %+v", r, first[0])
			}
		}
		if n, _ := f.interactions.Count(ctx); n != 1 {
			t.Fatalf("%d interactions stored, want 1", n)
		}
		got, err := f.interactions.Get(ctx, first[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Kind != "call" || got.Direction != interaction.Inbound || *got.DurationMS != 90000 || got.Value.Minor != 1999 ||
			got.Value.Currency != "EUR" || got.Campaign.Source != "print" || got.Reason != "delivery_time" || *got.ContactPointID != f.phone {
			t.Fatalf("stored %+v", got)
		}

		// One bad item refuses the whole batch and names it; nothing is stored.
		batch := []interaction.Input{
			{Identifiers: email("bea@example.com"), ContactPointID: f.store, Kind: "visit"},
			{Identifiers: email("cid@example.com"), ContactPointID: f.store, Kind: "visit", Rating: ptr(11)},
			{Identifiers: email("dee@example.com"), ContactPointID: id.ID(42), Kind: "visit"},
		}
		_, err = f.interactions.Record(ctx, batch)
		var b *errs.Batch
		if !errors.As(err, &b) || len(b.Items) != 1 || b.Items[0].Index != 1 || b.Items[0].Field != "rating" {
			t.Fatalf("batch error %v, want item 1 rating", err)
		}
		batch[1].Rating = ptr(9)
		_, err = f.interactions.Record(ctx, batch)
		if !errors.As(err, &b) || len(b.Items) != 1 || b.Items[0].Index != 2 || b.Items[0].Field != "contact_point_id" {
			t.Fatalf("batch error %v, want item 2 contact_point_id", err)
		}
		if n, _ := f.interactions.Count(ctx); n != 1 {
			t.Fatalf("a refused batch left %d interactions, want 1", n)
		}
		if n, _ := f.customers.Count(ctx); n != 1 {
			t.Fatalf("a refused batch left %d customers, want 1", n)
		}
		totalsMatchRows(t, f)
	})
}

func TestTimelineAcrossMergedCustomers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		// Monday: calls from a phone; Tuesday: writes by email; Wednesday: visits the
		// store with both on file — three contact points, one person.
		var ins []interaction.Input
		for i := 0; i < 30; i++ {
			ins = append(ins, interaction.Input{Identifiers: []customer.RawIdentifier{{Kind: "phone", Value: "+1 212 555 0142"}},
				ContactPointID: f.phone, Kind: "call", OccurredAt: base.Add(time.Duration(i) * time.Minute), ExternalID: fmt.Sprint("p", i)})
		}
		for i := 0; i < 30; i++ {
			ins = append(ins, interaction.Input{Identifiers: email("eve@example.com"), ContactPointID: f.web, Kind: "page_view",
				Direction: "passive", OccurredAt: base.Add(24*time.Hour + time.Duration(i)*time.Minute), ExternalID: fmt.Sprint("w", i)})
		}
		if _, err := f.interactions.Record(ctx, ins); err != nil {
			t.Fatal(err)
		}
		if n, _ := f.customers.Count(ctx); n != 2 {
			t.Fatalf("%d customers before the link, want 2", n)
		}
		res, err := f.interactions.Record(ctx, []interaction.Input{{
			Identifiers:    []customer.RawIdentifier{{Kind: "email", Value: "eve@example.com"}, {Kind: "phone", Value: "(212) 555-0142"}},
			ContactPointID: f.store, Kind: "visit", OccurredAt: base.Add(48 * time.Hour), StaffName: "Sam"}})
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := f.customers.Count(ctx); n != 1 {
			t.Fatalf("%d customers after the link, want 1", n)
		}
		totalsMatchRows(t, f)
		// Page through the whole combined timeline, newest first.
		var all []*interaction.Interaction
		cursor := ""
		for pages := 0; ; pages++ {
			p, err := f.interactions.Timeline(ctx, res[0].CustomerID, interaction.TimelineQuery{Limit: 7, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, p.Items...)
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
			if pages > 20 {
				t.Fatal("pagination does not end")
			}
		}
		if len(all) != 61 {
			t.Fatalf("timeline has %d interactions, want 61", len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i].OccurredAt.After(all[i-1].OccurredAt) {
				t.Fatalf("timeline not newest first at %d", i)
			}
		}
		if all[0].Kind != "visit" || all[60].Kind != "call" {
			t.Fatalf("first %s last %s", all[0].Kind, all[60].Kind)
		}
		// Filters.
		check := func(q interaction.TimelineQuery, want int) {
			t.Helper()
			q.Limit = 500
			p, err := f.interactions.Timeline(ctx, res[0].CustomerID, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != want {
				t.Errorf("filter %+v: %d items, want %d", q, len(p.Items), want)
			}
		}
		check(interaction.TimelineQuery{ContactPointID: f.web}, 30)
		check(interaction.TimelineQuery{Kinds: []string{"call", "visit"}}, 31)
		check(interaction.TimelineQuery{Direction: "passive"}, 30)
		check(interaction.TimelineQuery{Since: base.Add(24 * time.Hour), Until: base.Add(48 * time.Hour)}, 30)
		if _, err := f.interactions.Timeline(ctx, res[0].CustomerID, interaction.TimelineQuery{Cursor: "garbage!"}); err == nil {
			t.Fatal("a garbage cursor was accepted")
		}
	})
}

func TestValidationNamesTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		base := interaction.Input{Identifiers: email("x@example.com"), ContactPointID: f.phone, Kind: "call"}
		cases := []struct {
			field string
			mod   func(*interaction.Input)
		}{
			{"identifiers", func(in *interaction.Input) { in.Identifiers = nil }},
			{"identifiers", func(in *interaction.Input) { in.Identifiers = email("null") }},
			{"identifiers[0]", func(in *interaction.Input) { in.Identifiers = email("not-an-email") }},
			{"contact_point_id", func(in *interaction.Input) { in.ContactPointID = 0 }},
			{"kind", func(in *interaction.Input) { in.Kind = "" }},
			{"kind", func(in *interaction.Input) { in.Kind = "Phone Call!" }},
			{"direction", func(in *interaction.Input) { in.Direction = "sideways" }},
			{"occurred_at", func(in *interaction.Input) { in.OccurredAt = time.Now().Add(72 * time.Hour) }},
			{"sentiment", func(in *interaction.Input) { in.Sentiment = ptr(2.0) }},
			{"value.currency", func(in *interaction.Input) { in.Value = &interaction.Money{Minor: 1, Currency: "euro"} }},
			{"properties", func(in *interaction.Input) { in.Properties = []byte(`[1,2]`) }},
			{"customer_id", func(in *interaction.Input) { in.Identifiers = nil; in.CustomerID = 77 }},
		}
		for _, c := range cases {
			in := base
			c.mod(&in)
			_, err := f.interactions.Record(context.Background(), []interaction.Input{in})
			var b *errs.Batch
			if !errors.As(err, &b) || b.Items[0].Field != c.field {
				t.Errorf("want an error on %s, got %v", c.field, err)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

// Concurrent batches that share customers must all land, on PostgreSQL too
// (where they run in parallel transactions and race for new identifiers).
func TestConcurrentRecordsShareCustomers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		const workers, batches, per = 4, 10, 50
		errc := make(chan error, workers)
		for w := 0; w < workers; w++ {
			go func(w int) {
				for b := 0; b < batches; b++ {
					ins := make([]interaction.Input, per)
					for i := range ins {
						c := (b*per + i) % 60 // 60 customers, seen by every worker
						ins[i] = interaction.Input{
							Identifiers: []customer.RawIdentifier{
								{Kind: "anonymous_id", Value: fmt.Sprintf("anon-%d", c)},
								{Kind: "email", Value: fmt.Sprintf("c%d@example.com", c)},
							},
							ContactPointID: f.web, Kind: "page_view", Source: "race", ExternalID: fmt.Sprintf("%d-%d-%d", w, b, i),
						}
					}
					if _, err := f.interactions.Record(ctx, ins); err != nil {
						errc <- fmt.Errorf("worker %d batch %d: %w", w, b, err)
						return
					}
				}
				errc <- nil
			}(w)
		}
		for w := 0; w < workers; w++ {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		if n, _ := f.interactions.Count(ctx); n != workers*batches*per {
			t.Fatalf("%d interactions, want %d", n, workers*batches*per)
		}
		if n, _ := f.customers.Count(ctx); n != 60 {
			t.Fatalf("%d customers, want 60", n)
		}
		totalsMatchRows(t, f)
	})
}

// totalsMatchRows checks the running totals against the rows they count.
func totalsMatchRows(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	var customers, interactions int64
	f.db.QueryRow(ctx, "SELECT COUNT(*) FROM customers WHERE merged_into IS NULL").Scan(&customers)
	f.db.QueryRow(ctx, "SELECT COUNT(*) FROM interactions").Scan(&interactions)
	if c, _ := f.customers.Count(ctx); c != customers {
		t.Errorf("customer total %d, rows %d", c, customers)
	}
	if n, _ := f.interactions.Count(ctx); n != interactions {
		t.Errorf("interaction total %d, rows %d", n, interactions)
	}
}

// A customer's last_seen_at follows their latest contact, to the minute:
// also when several contacts of one batch move it, and never backwards.
func TestLastSeenFollowsContacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		call := func(ext string, at time.Time) interaction.Input {
			return interaction.Input{Identifiers: email("ann@example.com"), ContactPointID: f.phone, Kind: "call",
				Source: "pbx", ExternalID: ext, OccurredAt: at}
		}
		res, err := f.interactions.Record(ctx, []interaction.Input{call("c1", t0)})
		if err != nil {
			t.Fatal(err)
		}
		lastSeen := func() time.Time {
			t.Helper()
			c, err := f.customers.Get(ctx, res[0].CustomerID)
			if err != nil {
				t.Fatal(err)
			}
			return c.LastSeenAt
		}
		if _, err := f.interactions.Record(ctx, []interaction.Input{call("c2", t0.Add(5*time.Minute)), call("c3", t0.Add(9*time.Minute)), call("c4", t0.Add(2*time.Minute))}); err != nil {
			t.Fatal(err)
		}
		if got := lastSeen(); !got.Equal(t0.Add(9 * time.Minute)) {
			t.Fatalf("last seen %v, want the latest contact %v", got, t0.Add(9*time.Minute))
		}
		if _, err := f.interactions.Record(ctx, []interaction.Input{call("c5", t0.Add(time.Minute))}); err != nil {
			t.Fatal(err)
		}
		if got := lastSeen(); !got.Equal(t0.Add(9 * time.Minute)) {
			t.Fatalf("an older contact moved last seen back to %v", got)
		}
	})
}

// Every field recorded comes back as it went in, from Get and from the
// timeline, and the optional ones that were not set stay unset.
func TestStoredFieldsReadBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		at := time.Date(2026, 11, 2, 9, 30, 15, 123456000, time.UTC)
		full := interaction.Input{Identifiers: email("full@example.com"), ContactPointID: f.phone, Kind: "call",
			Direction: interaction.Outbound, OccurredAt: at, DurationMS: ptr(int64(61000)), StaffName: "Bo",
			Reason: "delivery_time", Outcome: "answered", Subject: "Where is my TV?", Content: "Ann <ann@x> & \"Bo\"\n",
			Summary: "asked twice", Sentiment: ptr(-0.5), Rating: ptr(4), Value: &interaction.Money{Minor: -4990, Currency: "EUR"},
			Campaign:  interaction.Campaign{Name: "spring", Source: "print", Medium: "flyer", Term: "tv", Content: "a"},
			PromoCode: "SPRING10", JourneyStage: "delivery", Properties: []byte(`{"order":"A-1","items":[1,2]}`),
			Source: "pbx", ExternalID: "call-77"}
		bare := interaction.Input{Identifiers: email("full@example.com"), ContactPointID: f.store, Kind: "note", OccurredAt: at.Add(-time.Hour)}
		res, err := f.interactions.Record(ctx, []interaction.Input{full, bare})
		if err != nil {
			t.Fatal(err)
		}
		page, err := f.interactions.Timeline(ctx, res[0].CustomerID, interaction.TimelineQuery{})
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("timeline: %v %v", page, err)
		}
		got, err := f.interactions.Get(ctx, res[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range []*interaction.Interaction{got, page.Items[0]} {
			var props map[string]any
			if err := json.Unmarshal(it.Properties, &props); err != nil || props["order"] != "A-1" || len(props["items"].([]any)) != 2 {
				t.Fatalf("properties %s: %v", it.Properties, err)
			}
			want := interaction.Interaction{ID: res[0].ID, CustomerID: res[0].CustomerID, ContactPointID: &f.phone,
				Kind: full.Kind, Direction: full.Direction, OccurredAt: at, DurationMS: full.DurationMS, StaffName: "Bo",
				Reason: full.Reason, Outcome: full.Outcome, Subject: full.Subject, Content: full.Content, Summary: full.Summary,
				Sentiment: full.Sentiment, Rating: full.Rating, Value: full.Value, Campaign: full.Campaign,
				PromoCode: full.PromoCode, JourneyStage: full.JourneyStage, Properties: it.Properties, Source: "pbx",
				ExternalID: "call-77", ReceivedAt: it.ReceivedAt}
			if !reflect.DeepEqual(*it, want) {
				t.Fatalf("read back\n%+v\nwant\n%+v", *it, want)
			}
		}
		b := page.Items[1]
		if b.ID != res[1].ID || *b.ContactPointID != f.store || b.DurationMS != nil || b.Sentiment != nil || b.Rating != nil ||
			b.Value != nil || b.StaffID != nil || b.CaseID != nil || b.Kind != "note" || !b.OccurredAt.Equal(at.Add(-time.Hour)) {
			t.Fatalf("bare interaction read back as %+v", b)
		}
	})
}
