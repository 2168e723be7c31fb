package cases_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func TestNotesMoveMergeSplit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ada := cases.Actor{UserID: f.user(t, "ada@example.com", "Ada Agent"), Name: "Ada Agent"}
		f.reason(t, "delivery", "Delivery")
		f.reason(t, "billing", "Billing")

		// Gil has two cases: delivery (an email and a call) and billing (an email).
		d1 := f.record(t, interaction.Input{Identifiers: emailOf("gil@example.com"), ContactPointID: f.email, Kind: "email",
			Subject: "Late parcel", Reason: "delivery"})[0]
		f.advance(time.Hour)
		d2 := f.record(t, interaction.Input{Identifiers: emailOf("gil@example.com"), ContactPointID: f.phone, Kind: "call",
			Reason: "delivery", Summary: "also asks about the invoice"})[0]
		f.advance(time.Hour)
		b1 := f.record(t, interaction.Input{Identifiers: emailOf("gil@example.com"), ContactPointID: f.email, Kind: "email",
			Subject: "Invoice wrong", Reason: "billing"})[0]
		delivery, billing := caseOf(d1), caseOf(b1)
		if delivery == 0 || caseOf(d2) != delivery || billing == 0 || billing == delivery {
			t.Fatalf("cases %s %s %s", caseOf(d1), caseOf(d2), caseOf(b1))
		}
		other := f.mail(t, "hal@example.com", "Hal's question")

		// Notes.
		f.advance(time.Minute)
		n, err := f.cases.AddNote(f.ctx, ada, delivery, "  Carrier says Tuesday.  ")
		if err != nil || n.Body != "Carrier says Tuesday." || n.AuthorName != "Ada Agent" || n.AuthorID == nil || *n.AuthorID != ada.UserID {
			t.Fatalf("note %+v %v", n, err)
		}
		_, err = f.cases.AddNote(f.ctx, ada, delivery, " ")
		wantInvalid(t, err, "body")
		if _, err := f.cases.AddNote(f.ctx, ada, 4242, "x"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("note on an unknown case: %v", err)
		}
		notes, err := f.cases.Notes(f.ctx, delivery)
		if err != nil || len(notes) != 1 || notes[0].ID != n.ID {
			t.Fatalf("notes %v %v", notes, err)
		}
		if e := events(f.history(t, delivery), "note"); len(e) != 1 || e[0].ActorName != "Ada Agent" {
			t.Fatalf("note history %+v", e)
		}

		// Move the call onto the billing case: both counts follow.
		f.advance(time.Minute)
		c, err := f.cases.MoveInteractions(f.ctx, ada, []id.ID{d2.ID}, billing)
		if err != nil {
			t.Fatal(err)
		}
		if c.InteractionCount != 2 {
			t.Fatalf("billing case has %d interactions after the move, want 2", c.InteractionCount)
		}
		d := f.get(t, delivery)
		firstAt := start
		if d.InteractionCount != 1 || !same(d.LastInboundAt, &firstAt) {
			t.Fatalf("delivery case after the move: %d interactions, last inbound %v", d.InteractionCount, d.LastInboundAt)
		}
		if got, _ := f.s.Interactions.Get(f.ctx, d2.ID); got.CaseID == nil || *got.CaseID != billing {
			t.Fatalf("the call is on %v", got.CaseID)
		}
		if e := events(f.history(t, delivery), "interaction_moved_out"); len(e) != 1 || e[0].ActorName != "Ada Agent" {
			t.Fatalf("moved-out history %+v", e)
		}
		if e := events(f.history(t, billing), "interaction_moved_in"); len(e) != 1 || e[0].Detail["from"] != delivery.String() {
			t.Fatalf("moved-in history %+v", e)
		}
		// Someone else's interaction, or one that does not exist, is refused.
		_, err = f.cases.MoveInteractions(f.ctx, ada, []id.ID{other.ID}, billing)
		wantInvalid(t, err, "interaction_ids")
		_, err = f.cases.MoveInteractions(f.ctx, ada, []id.ID{d1.ID, 4242}, billing)
		wantInvalid(t, err, "interaction_ids")
		if got := f.get(t, billing); got.InteractionCount != 2 {
			t.Fatalf("a refused move changed the count to %d", got.InteractionCount)
		}
		if got := f.get(t, delivery); got.InteractionCount != 1 {
			t.Fatalf("a refused move changed the count to %d", got.InteractionCount)
		}

		// Split the call off the billing case onto a case of its own.
		f.advance(time.Minute)
		if _, err := f.cases.Update(f.ctx, ada, billing, cases.Patch{Priority: ptr("high"), Tags: &[]string{"vip"},
			OwnerID: cases.OptionalID{Set: true, ID: ada.UserID}}); err != nil {
			t.Fatal(err)
		}
		split, err := f.cases.Split(f.ctx, ada, billing, []id.ID{d2.ID}, "Invoice question on the phone")
		if err != nil {
			t.Fatal(err)
		}
		if split.InteractionCount != 1 || split.Reason != "billing" || split.Priority != "high" || split.Status != cases.Open ||
			split.OwnerID == nil || *split.OwnerID != ada.UserID || !slices.Equal(split.Tags, []string{"vip"}) || split.CustomerID != d2.CustomerID {
			t.Fatalf("split case %+v", split)
		}
		if got := f.get(t, billing); got.InteractionCount != 1 {
			t.Fatalf("after the split the billing case has %d interactions", got.InteractionCount)
		}
		if e := events(f.history(t, billing), "split"); len(e) != 1 || e[0].Detail["case_id"] != split.ID.String() {
			t.Fatalf("split history %+v", e)
		}
		if e := events(f.history(t, split.ID), "split_from"); len(e) != 1 || e[0].Detail["case_id"] != billing.String() {
			t.Fatalf("split_from history %+v", e)
		}
		_, err = f.cases.Split(f.ctx, ada, billing, []id.ID{d1.ID}, "not here")
		wantInvalid(t, err, "interaction_ids")

		// Merge the split case into the delivery case.
		f.advance(time.Minute)
		if _, err := f.cases.AddNote(f.ctx, ada, split.ID, "Customer prefers phone."); err != nil {
			t.Fatal(err)
		}
		into, err := f.cases.Merge(f.ctx, ada, split.ID, delivery)
		if err != nil {
			t.Fatal(err)
		}
		if into.ID != delivery || into.InteractionCount != 2 || !slices.Equal(into.Tags, []string{"vip"}) {
			t.Fatalf("merged-into case %+v", into)
		}
		src := f.get(t, split.ID)
		if src.Status != cases.Closed || src.MergedInto == nil || *src.MergedInto != delivery || src.InteractionCount != 0 || src.ClosedAt == nil {
			t.Fatalf("merged case %+v", src)
		}
		notes, _ = f.cases.Notes(f.ctx, delivery)
		if len(notes) != 2 {
			t.Fatalf("merged case has %d notes, want 2", len(notes))
		}
		if e := events(f.history(t, split.ID), "merged_into"); len(e) != 1 || e[0].ActorName != "Ada Agent" || e[0].Detail["case_id"] != delivery.String() {
			t.Fatalf("merged_into history %+v", e)
		}
		if e := events(f.history(t, delivery), "merged_from"); len(e) != 1 || e[0].Detail["case_id"] != split.ID.String() {
			t.Fatalf("merged_from history %+v", e)
		}
		// A merged case is gone from the inbox and cannot change; contacts
		// naming it land on the case it went into.
		page, _ := f.cases.Inbox(f.ctx, cases.InboxQuery{Statuses: []string{"any"}, Limit: 200})
		if slices.Contains(idsOf(page.Items), split.ID) {
			t.Fatal("the merged case is still in the inbox")
		}
		if _, err := f.cases.Update(f.ctx, ada, split.ID, cases.Patch{Status: ptr(cases.Open)}); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("changing a merged case: %v", err)
		}
		if _, err := f.cases.AddNote(f.ctx, ada, split.ID, "late note"); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("a note on a merged case: %v", err)
		}
		if _, err := f.cases.Merge(f.ctx, ada, split.ID, billing); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("merging a merged case again: %v", err)
		}
		r := f.record(t, interaction.Input{Identifiers: emailOf("gil@example.com"), ContactPointID: f.phone, Kind: "call", CaseID: &split.ID})[0]
		if caseOf(r) != delivery {
			t.Fatalf("a contact naming the merged case landed on %v", r.CaseID)
		}
		if _, err := f.cases.Merge(f.ctx, ada, delivery, caseOf(other)); err == nil {
			t.Fatal("cases of two customers were merged")
		}
		if _, err := f.cases.Merge(f.ctx, ada, delivery, delivery); err == nil {
			t.Fatal("a case was merged into itself")
		}

		// A case opened by hand can take interactions and a first note.
		f.advance(time.Minute)
		manual, err := f.cases.Create(f.ctx, ada, cases.NewCase{CustomerID: d1.CustomerID, Subject: "Follow-up",
			InteractionIDs: []id.ID{r.ID}, Note: "Opened from the call", ContactPointID: &f.phone})
		if err != nil {
			t.Fatal(err)
		}
		if manual.InteractionCount != 1 || manual.Channel != "phone" || manual.Status != cases.New {
			t.Fatalf("manual case %+v", manual)
		}
		if got := f.get(t, delivery); got.InteractionCount != 2 {
			t.Fatalf("the delivery case kept %d interactions", got.InteractionCount)
		}
		if k := kindsOf(f.history(t, manual.ID)); !slices.Contains(k, "created") || !slices.Contains(k, "interaction_moved_in") || !slices.Contains(k, "note") {
			t.Fatalf("manual case history %v", k)
		}
		_, err = f.cases.Create(f.ctx, ada, cases.NewCase{CustomerID: d1.CustomerID, Subject: "x", InteractionIDs: []id.ID{other.ID}})
		wantInvalid(t, err, "interaction_ids")

		// Merged twice over: a contact naming the first case lands on the last.
		if _, err := f.cases.Merge(f.ctx, ada, delivery, manual.ID); err != nil {
			t.Fatal(err)
		}
		r = f.record(t, interaction.Input{Identifiers: emailOf("gil@example.com"), ContactPointID: f.phone, Kind: "call", CaseID: &split.ID})[0]
		if caseOf(r) != manual.ID {
			t.Fatalf("a contact naming a case merged twice landed on %v, want %s", r.CaseID, manual.ID)
		}
		if got := f.get(t, manual.ID); got.InteractionCount != 4 {
			t.Fatalf("the last case has %d interactions, want 4", got.InteractionCount)
		}
		f.checkCounts(t, ada.UserID, nil)
	})
}
