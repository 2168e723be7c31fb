package cases_test

import (
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func TestUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ada := cases.Actor{UserID: f.user(t, "ada@example.com", "Ada Agent"), Name: "Ada Agent"}
		bob := cases.Actor{UserID: f.user(t, "bob@example.com", "Bob Boss"), Name: "Bob Boss"}
		billing := f.team(t, "Billing")
		f.reason(t, "billing", "Billing")

		// Concurrent edits of different fields both stay.
		var ids []id.ID
		for _, who := range []string{"a", "b", "c", "d", "e", "f"} {
			ids = append(ids, caseOf(f.mail(t, who+"@example.com", "Question "+who)))
		}
		var wg sync.WaitGroup
		errc := make(chan error, 2*len(ids))
		for _, cid := range ids {
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, err := f.cases.Update(f.ctx, ada, cid, cases.Patch{Status: ptr(cases.WaitingUs)})
				errc <- err
			}()
			go func() {
				defer wg.Done()
				_, err := f.cases.Update(f.ctx, bob, cid, cases.Patch{Priority: ptr("urgent")})
				errc <- err
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, cid := range ids {
			c := f.get(t, cid)
			if c.Status != cases.WaitingUs || c.Priority != "urgent" {
				t.Fatalf("after concurrent edits case %s is %s/%s, want waiting_on_us/urgent", cid, c.Status, c.Priority)
			}
			h := f.history(t, cid)
			if s, p := events(h, "status"), events(h, "priority"); len(s) != 1 || s[0].ActorName != "Ada Agent" ||
				len(p) != 1 || p[0].ActorName != "Bob Boss" || p[0].Detail["from"] != "normal" || p[0].Detail["to"] != "urgent" {
				t.Fatalf("history of concurrent edits %+v", h)
			}
		}

		// Open pages hear of changes.
		cid := ids[0]
		sub := f.s.Bus.Subscribe("case:" + cid.String())
		defer sub.Close()
		f.update(t, ada, cid, cases.Patch{Priority: ptr("high")})
		select {
		case e := <-sub.C():
			var d struct {
				CaseID  id.ID    `json:"case_id"`
				Changes []string `json:"changes"`
			}
			if err := json.Unmarshal(e.Data, &d); err != nil || e.Type != "case.updated" || d.CaseID != cid || !slices.Equal(d.Changes, []string{"priority"}) {
				t.Fatalf("live event %s %s (%v)", e.Type, e.Data, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no live event for a change")
		}

		// A change made against an old version is refused and changes nothing.
		c := f.get(t, cid)
		v := c.Version
		f.advance(time.Minute)
		c = f.update(t, ada, cid, cases.Patch{Subject: ptr("  Refund for order 7  "), Version: v})
		if c.Subject != "Refund for order 7" || c.Version != v+1 {
			t.Fatalf("subject %q version %d, want version %d", c.Subject, c.Version, v+1)
		}
		_, err := f.cases.Update(f.ctx, bob, cid, cases.Patch{Subject: ptr("Something else"), Version: v})
		if !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("stale version: %v, want conflict", err)
		}
		if got := f.get(t, cid); got.Subject != "Refund for order 7" || got.Version != v+1 {
			t.Fatalf("a refused change was stored: %+v", got)
		}
		// A patch that changes nothing changes no version.
		if c = f.update(t, ada, cid, cases.Patch{Subject: ptr("Refund for order 7")}); c.Version != v+1 {
			t.Fatalf("an empty change moved the version to %d", c.Version)
		}

		// Tags: set, add and remove, normalized; the inbox finds them.
		c = f.update(t, ada, cid, cases.Patch{Tags: &[]string{" VIP ", "refund", "vip", ""}})
		if !slices.Equal(c.Tags, []string{"refund", "vip"}) {
			t.Fatalf("tags %v", c.Tags)
		}
		c = f.update(t, bob, cid, cases.Patch{AddTags: []string{"Escalated"}, RemoveTags: []string{" REFUND"}})
		if !slices.Equal(c.Tags, []string{"escalated", "vip"}) || !slices.Equal(f.get(t, cid).Tags, c.Tags) {
			t.Fatalf("tags %v, stored %v", c.Tags, f.get(t, cid).Tags)
		}
		page, err := f.cases.Inbox(f.ctx, cases.InboxQuery{Tag: "VIP"})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != cid {
			t.Fatalf("inbox by tag: %v %v", page, err)
		}
		if page, _ := f.cases.Inbox(f.ctx, cases.InboxQuery{Tag: "refund"}); len(page.Items) != 0 {
			t.Fatalf("a removed tag still finds %d cases", len(page.Items))
		}
		_, err = f.cases.Update(f.ctx, ada, cid, cases.Patch{AddTags: []string{"a,b"}})
		wantInvalid(t, err, "tags")

		// Owner, team, reason, priority: checked, and each change recorded with its actor.
		_, err = f.cases.Update(f.ctx, ada, cid, cases.Patch{OwnerID: cases.OptionalID{Set: true, ID: 4242}})
		wantInvalid(t, err, "owner_id")
		_, err = f.cases.Update(f.ctx, ada, cid, cases.Patch{TeamID: cases.OptionalID{Set: true, ID: 4242}})
		wantInvalid(t, err, "team_id")
		_, err = f.cases.Update(f.ctx, ada, cid, cases.Patch{Reason: ptr("nonsense")})
		wantInvalid(t, err, "reason")
		_, err = f.cases.Update(f.ctx, ada, cid, cases.Patch{Priority: ptr("whenever")})
		wantInvalid(t, err, "priority")
		_, err = f.cases.Update(f.ctx, ada, cid, cases.Patch{Subject: ptr("  ")})
		wantInvalid(t, err, "subject")
		if got := f.get(t, cid); got.OwnerID != nil || got.TeamID != nil || got.Reason != "" || got.Version != c.Version {
			t.Fatalf("refused changes were stored: %+v", got)
		}
		c = f.update(t, bob, cid, cases.Patch{OwnerID: cases.OptionalID{Set: true, ID: ada.UserID},
			TeamID: cases.OptionalID{Set: true, ID: billing}, Reason: ptr("billing")})
		if c.OwnerID == nil || *c.OwnerID != ada.UserID || c.TeamID == nil || *c.TeamID != billing || c.Reason != "billing" {
			t.Fatalf("assigned case %+v", c)
		}
		c = f.update(t, ada, cid, cases.Patch{OwnerID: cases.OptionalID{Set: true}})
		if c.OwnerID != nil || f.get(t, cid).OwnerID != nil {
			t.Fatal("clearing the owner did not")
		}
		h := f.history(t, cid)
		want := []struct{ kind, actor string }{
			{"subject", "Ada Agent"}, {"tags", "Ada Agent"}, {"tags", "Bob Boss"},
			{"team", "Bob Boss"}, {"assigned", "Bob Boss"}, {"reason", "Bob Boss"}, {"assigned", "Ada Agent"},
		}
		var got []struct{ kind, actor string }
		for _, e := range h {
			switch e.Kind {
			case "subject", "tags", "team", "assigned", "reason":
				got = append(got, struct{ kind, actor string }{e.Kind, e.ActorName})
				if e.ActorID == nil || e.At.IsZero() {
					t.Fatalf("entry without its actor or time: %+v", e)
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("history %v, want %v", got, want)
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Fatalf("history %v lacks %v", got, w)
			}
		}
		if _, err := f.cases.Update(f.ctx, ada, 4242, cases.Patch{Subject: ptr("x")}); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("update of an unknown case: %v", err)
		}
		f.checkCounts(t, ada.UserID, []id.ID{billing})
		f.checkCounts(t, bob.UserID, nil)
	})
}

func TestConcurrentContactsAndEditsOfOneCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ada := cases.Actor{UserID: f.user(t, "ada@example.com", "Ada Agent"), Name: "Ada Agent"}
		// Pat is known (a page view), with no case yet; contacts arrive at
		// once on several channels while agents edit.
		pat := f.record(t, interaction.Input{Identifiers: emailOf("pat@example.com"), ContactPointID: f.web, Kind: "page_view",
			Direction: interaction.Passive})[0].CustomerID
		const contacts, notes = 8, 4
		var wg sync.WaitGroup
		errc := make(chan error, 2*contacts+notes+1)
		for i := range contacts {
			wg.Go(func() {
				cp, kind := f.email, "email"
				if i%2 == 1 {
					cp, kind = f.phone, "call"
				}
				_, err := f.tryRecord(interaction.Input{CustomerID: pat, ContactPointID: cp, Kind: kind, Subject: "help"})
				errc <- err
			})
		}
		wg.Wait()
		cs, err := f.cases.ForCustomer(f.ctx, pat)
		if err != nil || len(cs) != 1 {
			t.Fatalf("%d cases opened by simultaneous contacts, want 1 (%v)", len(cs), err)
		}
		caseID := cs[0].ID
		for i := range contacts {
			wg.Go(func() {
				_, err := f.tryRecord(interaction.Input{CustomerID: pat, ContactPointID: f.chat, Kind: "chat", Content: "more"})
				errc <- err
			})
			if i < notes {
				wg.Go(func() {
					_, err := f.cases.AddNote(f.ctx, ada, caseID, "note")
					errc <- err
				})
			}
		}
		wg.Go(func() {
			_, err := f.cases.Update(f.ctx, ada, caseID, cases.Patch{AddTags: []string{"busy"}})
			errc <- err
		})
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		c := f.get(t, caseID)
		if c.InteractionCount != 2*contacts || !slices.Equal(c.Tags, []string{"busy"}) {
			t.Fatalf("after simultaneous contacts and edits: %d interactions (want %d), tags %v", c.InteractionCount, 2*contacts, c.Tags)
		}
		h := f.history(t, caseID)
		if n := len(events(h, "interaction_linked")); n != 2*contacts {
			t.Fatalf("%d links in the history, want %d", n, 2*contacts)
		}
		if n := len(events(h, "note")); n != notes {
			t.Fatalf("%d notes in the history, want %d", n, notes)
		}
		f.checkCounts(t, ada.UserID, nil)
	})
}
