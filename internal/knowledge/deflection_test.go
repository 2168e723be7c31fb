package knowledge_test

import (
	"context"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// A read counts as deflected unless the reader contacted the company
// (inbound, a conversation) within a day after it, on any contact point;
// reads of the last day are not decided yet.
func TestDeflection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, nil)
		web, mail := contactPoint(t, db, "help center"), contactPoint(t, db, "email")
		art := publishArticle(t, kb, "returns", "Returning an order", "Send it back within 30 days.", knowledge.Public)
		read := time.Now().Add(-72 * time.Hour).Truncate(time.Second)

		record := func(cust id.ID, cp id.ID, kind, direction string, at time.Time) id.ID {
			t.Helper()
			var ia id.ID
			err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				ia = tx.NewID()
				_, err := tx.Exec(ctx, `INSERT INTO interactions (id, customer_id, contact_point_id, kind, direction, occurred_at, source, received_at)
					VALUES (?, ?, ?, ?, ?, ?, 'test', ?)`, ia, cust, cp, kind, direction, at.UnixMicro(), at.UnixMicro())
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return ia
		}
		reader := func(contact func(cust id.ID)) {
			t.Helper()
			cust, _ := interactionAt(t, db, web, read.Add(-time.Minute))
			view := record(cust, web, "page_view", "inbound", read)
			if err := kb.Cite(ctx, view, []knowledge.Ref{{Kind: "article", ID: art.ID, Version: 1}}); err != nil {
				t.Fatal(err)
			}
			if contact != nil {
				contact(cust)
			}
		}
		reader(func(c id.ID) { record(c, mail, "email", "inbound", read.Add(2*time.Hour)) })  // wrote the same day: not deflected
		reader(nil)                                                                           // never wrote: deflected
		reader(func(c id.ID) { record(c, mail, "email", "inbound", read.Add(50*time.Hour)) }) // wrote two days later: deflected
		reader(func(c id.ID) { record(c, mail, "email", "outbound", read.Add(time.Hour)) })   // the company wrote: deflected

		got, err := kb.Deflection(ctx, web, read.Add(-time.Hour), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Category != "help" || got[0].Reads != 4 || got[0].Deflected != 3 {
			t.Fatalf("deflection: %+v", got)
		}
		// Reads younger than a day are not counted yet.
		recent, err := kb.Deflection(ctx, web, time.Now().Add(-time.Hour), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(recent) != 0 {
			t.Fatalf("undecided reads counted: %+v", recent)
		}
	})
}
