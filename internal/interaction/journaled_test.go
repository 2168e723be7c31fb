package interaction_test

import (
	"context"
	"errors"
	"fmt"
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

func openJournal(t *testing.T, f *fixture, dir string) *interaction.Journaled {
	t.Helper()
	j, err := f.interactions.OpenJournal(context.Background(), dir, interaction.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// waitStored waits until what j acknowledged is stored, for at most 10 s.
func waitStored(t *testing.T, j *interaction.Journaled) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := j.WaitStored(ctx); err != nil {
		t.Fatalf("acknowledged events not stored: %v", err)
	}
}

func pageView(cp id.ID, msg string, idents ...customer.RawIdentifier) interaction.Input {
	return interaction.Input{Identifiers: idents, ContactPointID: cp, Kind: "page_view", Direction: interaction.Passive,
		Subject: "Delivery", Content: "https://shop.example/help/delivery", Source: "segment:test", ExternalID: msg,
		Properties: []byte(`{"path":"/help/delivery"}`), Campaign: interaction.Campaign{Name: "spring", Source: "print"}}
}

func anon(v string) customer.RawIdentifier {
	return customer.RawIdentifier{Kind: "anonymous_id", Value: v}
}
func userID(v string) customer.RawIdentifier {
	return customer.RawIdentifier{Kind: "user_id", Value: v}
}

// A journaled batch is answered with each event's customer before it is
// stored; once stored, the events are on those customers' timelines, one
// customer per visitor, with every field kept.
func TestJournaledEventsLandWherePromised(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		j := openJournal(t, f, t.TempDir())

		batch := []interaction.Input{
			pageView(f.web, "m1", anon("a-1")),
			pageView(f.web, "m2", anon("a-2")),
			pageView(f.web, "m3", anon("a-1"), userID("u-1")), // signs in
			pageView(f.web, "m4", userID("u-1")),
		}
		batch[1].Value = &interaction.Money{Minor: 4990, Currency: "EUR"}
		batch[1].Rating = ptr(9)
		res, err := j.Record(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].CustomerID == 0 || res[0].CustomerID != res[2].CustomerID || res[2].CustomerID != res[3].CustomerID {
			t.Fatalf("a-1 and u-1 are one visitor, got customers %v", res)
		}
		if res[1].CustomerID == res[0].CustomerID || res[1].CustomerID == 0 {
			t.Fatalf("a-2 is another visitor, got customers %v", res)
		}
		waitStored(t, j)
		if n, _ := f.interactions.Count(ctx); n != 4 {
			t.Fatalf("%d interactions stored, want 4", n)
		}
		if n, _ := f.customers.Count(ctx); n != 2 {
			t.Fatalf("%d customers, want 2", n)
		}
		c, err := f.customers.Get(ctx, res[0].CustomerID)
		if err != nil {
			t.Fatalf("the promised customer was not created with its id: %v", err)
		}
		if len(c.Identifiers) != 2 {
			t.Fatalf("customer identifiers %v, want the anonymous id and the user id", c.Identifiers)
		}
		page, err := f.interactions.Timeline(ctx, res[1].CustomerID, interaction.TimelineQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 {
			t.Fatalf("timeline of a-2: %d items, want 1", len(page.Items))
		}
		got := page.Items[0]
		if got.ExternalID != "m2" || got.Kind != "page_view" || got.Subject != "Delivery" || got.Campaign.Source != "print" ||
			got.Value == nil || got.Value.Minor != 4990 || got.Rating == nil || *got.Rating != 9 || string(got.Properties) != `{"path":"/help/delivery"}` {
			t.Fatalf("stored interaction lost fields: %+v", got)
		}

		// Sent again (a client's retry), nothing is stored twice.
		if _, err := j.Record(ctx, batch); err != nil {
			t.Fatal(err)
		}
		waitStored(t, j)
		if n, _ := f.interactions.Count(ctx); n != 4 {
			t.Fatalf("after a retry %d interactions, want 4", n)
		}
	})
}

// Refusals are the same as Record's and name the item; nothing of a
// refused batch is journaled or stored.
func TestJournaledRefusesBadBatchesWhole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		j := openJournal(t, f, t.TempDir())
		identify := interaction.Input{Identifiers: []customer.RawIdentifier{userID("u-9")}, IdentifyOnly: true,
			Traits: map[string]any{"name": "Ann"}, Source: "segment:test", ExternalID: "id-1"}
		bad := pageView(f.web, "m2", customer.RawIdentifier{Kind: "email", Value: "not an email"})
		_, err := j.Record(ctx, []interaction.Input{identify, pageView(f.web, "m1", anon("a-1")), bad})
		var b *errs.Batch
		if !errors.As(err, &b) || len(b.Items) != 1 || b.Items[0].Index != 2 || b.Items[0].Field != "identifiers[0]" {
			t.Fatalf("got %v, want item 2's identifiers[0] refused", err)
		}

		kind, name := contactpoint.Kind("website"), "Old shop"
		cps := contactpoint.NewService(db)
		old, err := cps.Create(ctx, contactpoint.Spec{Kind: &kind, Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		off := true
		if _, err := cps.Update(ctx, old.ID, contactpoint.Spec{Disabled: &off}); err != nil {
			t.Fatal(err)
		}
		_, err = j.Record(ctx, []interaction.Input{pageView(f.web, "m1", anon("a-1")), pageView(old.ID, "m3", anon("a-1"))})
		if !errors.As(err, &b) || len(b.Items) != 1 || b.Items[0].Index != 1 || b.Items[0].Field != "contact_point_id" {
			t.Fatalf("got %v, want item 1 refused for its disabled contact point", err)
		}
		waitStored(t, j)
		if n, _ := f.interactions.Count(ctx); n != 0 {
			t.Fatalf("%d interactions stored from refused batches", n)
		}
		if n, _ := f.customers.Count(ctx); n != 0 {
			t.Fatalf("%d customers created by refused batches", n)
		}
	})
}

// What the journal cannot carry (traits, identify calls) is stored at once,
// in the same request; the journaled events of the visitor join the same
// customer, and so do events stored directly while a promise is pending.
func TestJournaledAndDirectWritersAgree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		// The applier starts only once both writers have written.
		j, start, err := f.interactions.OpenJournalStopped(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		started := false
		t.Cleanup(func() {
			if !started {
				start()
			}
			j.Close()
		})
		identify := interaction.Input{Identifiers: []customer.RawIdentifier{userID("u-1"), anon("a-1")}, IdentifyOnly: true,
			Traits: map[string]any{"name": "Ann Smith"}, Source: "segment:test", ExternalID: "id-1"}
		res, err := j.Record(ctx, []interaction.Input{pageView(f.web, "m1", anon("a-1")), identify, pageView(f.web, "m2", userID("u-1"))})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].CustomerID != res[1].CustomerID || res[2].CustomerID != res[1].CustomerID {
			t.Fatalf("one visitor, customers %v", res)
		}
		c, err := f.customers.Get(ctx, res[1].CustomerID)
		if err != nil || c.Name != "Ann Smith" {
			t.Fatalf("identify was not stored at once: %v %v", c, err)
		}

		// A promise for a-2 is pending while the API stores a call from
		// the same visitor directly: the store's resolution wins, and the
		// visitor stays one customer.
		pending, err := j.Record(ctx, []interaction.Input{pageView(f.web, "m3", anon("a-2"))})
		if err != nil {
			t.Fatal(err)
		}
		direct, err := f.interactions.Record(ctx, []interaction.Input{{Identifiers: []customer.RawIdentifier{anon("a-2")},
			ContactPointID: f.phone, Kind: "call", Source: "pbx", ExternalID: "c-1"}})
		if err != nil {
			t.Fatal(err)
		}
		start()
		started = true
		waitStored(t, j)
		if n, _ := f.customers.Count(ctx); n != 2 {
			t.Fatalf("%d customers, want 2 (Ann, and the visitor a-2)", n)
		}
		page, err := f.interactions.Timeline(ctx, direct[0].CustomerID, interaction.TimelineQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 2 {
			t.Fatalf("the a-2 visitor's timeline has %d items, want the page view and the call", len(page.Items))
		}
		if pending[0].CustomerID == direct[0].CustomerID {
			t.Fatal("the direct call found the customer only promised")
		}
		if st := j.Stats(); st.Stored != 3 || st.Rerouted != 1 || st.Backlog != 0 {
			t.Fatalf("journal stats %+v, want 3 stored, 1 of them rerouted to the store's customer, nothing waiting", st)
		}
	})
}

// Reopened on the same store, a journal goes on from where the store got;
// a wiped journal directory starts afresh and is not mistaken for the old.
func TestJournalReopens(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	f := setup(t, db)
	dir := t.TempDir()
	j, err := f.interactions.OpenJournal(ctx, dir, interaction.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := j.Record(ctx, []interaction.Input{pageView(f.web, fmt.Sprintf("m%d", i), anon("a-1"))}); err != nil {
			t.Fatal(err)
		}
	}
	waitStored(t, j)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openJournal(t, f, dir)
	if _, err := j.Record(ctx, []interaction.Input{pageView(f.web, "m9", anon("a-1"))}); err != nil {
		t.Fatal(err)
	}
	waitStored(t, j)
	if n, _ := f.interactions.Count(ctx); n != 6 {
		t.Fatalf("%d interactions after reopening, want 6", n)
	}
	j2 := openJournal(t, f, t.TempDir())
	if j2.Backlog() != 0 {
		t.Fatalf("a new journal directory has a backlog of %d", j2.Backlog())
	}
}

// A second user signing in on a shared device is another customer, as
// Resolve would have it: the promise says so before the store does.
func TestJournaledSharedDevice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		j := openJournal(t, f, t.TempDir())
		first, err := j.Record(ctx, []interaction.Input{pageView(f.web, "m1", anon("tablet"), userID("ann"))})
		if err != nil {
			t.Fatal(err)
		}
		// Both still pending, then both stored: the answer is the same.
		for round := range 2 {
			res, err := j.Record(ctx, []interaction.Input{
				pageView(f.web, fmt.Sprintf("m2-%d", round), anon("tablet"), userID("bob")),
				pageView(f.web, fmt.Sprintf("m3-%d", round), anon("tablet")),
			})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].CustomerID == first[0].CustomerID {
				t.Fatalf("round %d: bob was promised ann's customer", round)
			}
			if res[1].CustomerID != first[0].CustomerID {
				t.Fatalf("round %d: the tablet alone was promised %s, want ann's customer %s", round, res[1].CustomerID, first[0].CustomerID)
			}
			waitStored(t, j)
		}
		if n, _ := f.customers.Count(ctx); n != 2 {
			t.Fatalf("%d customers, want ann and bob", n)
		}
		if st := j.Stats(); st.Rerouted != 0 {
			t.Fatalf("%d events stored elsewhere than promised", st.Rerouted)
		}
	})
}

// Closing (a node shutting down) stores what is waiting first.
func TestJournalCloseStoresTheBacklog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		j, start, err := f.interactions.OpenJournalStopped(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			if _, err := j.Record(ctx, []interaction.Input{pageView(f.web, fmt.Sprintf("m%d", i), anon(fmt.Sprintf("a-%d", i)))}); err != nil {
				t.Fatal(err)
			}
		}
		start()
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		if n, _ := f.interactions.Count(ctx); n != 20 {
			t.Fatalf("%d of 20 acknowledged events stored when the journal closed", n)
		}
	})
}
