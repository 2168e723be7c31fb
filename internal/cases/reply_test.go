package cases_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func TestReply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ada := cases.Actor{UserID: f.user(t, "ada@example.com", "Ada Agent"), Name: "Ada Agent"}
		first := f.mail(t, "nia@example.com", "Refund?")
		caseID := caseOf(first)

		f.advance(10 * time.Minute)
		res, err := f.cases.Reply(f.ctx, ada, caseID, cases.Reply{Subject: "Re: Refund?", Body: "<p>Yes, on its way.</p>", IdempotencyKey: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Duplicate || caseOf(*res) != caseID || res.CustomerID != first.CustomerID {
			t.Fatalf("reply result %+v", res)
		}
		got, err := f.s.Interactions.Get(f.ctx, res.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Direction != interaction.Outbound || got.DeliveryStatus != cases.DeliveryPending || got.Kind != "email" ||
			got.ContactPointID == nil || *got.ContactPointID != f.email || got.StaffID == nil || *got.StaffID != ada.UserID ||
			got.StaffName != "Ada Agent" || got.CaseID == nil || *got.CaseID != caseID || !got.OccurredAt.Equal(f.clock()) {
			t.Fatalf("stored reply %+v", got)
		}
		c := f.get(t, caseID)
		if c.InteractionCount != 2 || !same(c.FirstResponseAt, ptr(f.clock())) || !same(c.LastOutboundAt, ptr(f.clock())) {
			t.Fatalf("case after the reply %+v", c)
		}

		// A double click stores one reply.
		again, err := f.cases.Reply(f.ctx, ada, caseID, cases.Reply{Body: "<p>Yes, on its way.</p>", IdempotencyKey: "k1",
			Status: cases.Resolved})
		if err != nil || !again.Duplicate || again.ID != res.ID {
			t.Fatalf("second submit %+v %v", again, err)
		}
		if c := f.get(t, caseID); c.InteractionCount != 2 || c.Status != cases.New {
			t.Fatalf("a duplicate reply changed the case: %d interactions, %s", c.InteractionCount, c.Status)
		}

		// Replying by text: Nia never texted, and has not agreed to texts.
		f.advance(time.Minute)
		_, err = f.cases.Reply(f.ctx, ada, caseID, cases.Reply{ContactPointID: f.sms, Body: "Refund sent"})
		wantInvalid(t, err, "contact_point_id")
		_, err = f.cases.Reply(f.ctx, ada, caseID, cases.Reply{ContactPointID: f.web, Body: "Refund sent"})
		wantInvalid(t, err, "contact_point_id")
		_, err = f.cases.Reply(f.ctx, ada, caseID, cases.Reply{ContactPointID: 4242, Body: "Refund sent"})
		wantInvalid(t, err, "contact_point_id")
		if c := f.get(t, caseID); c.InteractionCount != 2 {
			t.Fatalf("refused replies were stored: %d", c.InteractionCount)
		}
		if _, err := f.s.Customers.Update(f.ctx, first.CustomerID, customer.Profile{Identifiers: phoneOf("+1 212 555 0199"),
			Consent: map[string]customer.Consent{"sms": {Status: "opted_in"}}}, "test"); err != nil {
			t.Fatal(err)
		}
		res, err = f.cases.Reply(f.ctx, ada, caseID, cases.Reply{ContactPointID: f.sms, Body: "Refund sent", Status: cases.WaitingCustomer})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.Interactions.Get(f.ctx, res.ID); got.Kind != "sms" || *got.ContactPointID != f.sms {
			t.Fatalf("text reply %+v", got)
		}
		c = f.get(t, caseID)
		if c.Status != cases.WaitingCustomer || c.InteractionCount != 3 {
			t.Fatalf("after replying and waiting: %s, %d", c.Status, c.InteractionCount)
		}
		if s := events(f.history(t, caseID), "status"); len(s) != 1 || s[0].ActorName != "Ada Agent" {
			t.Fatalf("status history %+v", s)
		}

		// The customer calls: replies default to the channel they used last.
		f.advance(time.Hour)
		f.record(t, interaction.Input{Identifiers: emailOf("nia@example.com"), ContactPointID: f.phone, Kind: "call"})
		used, err := f.cases.ChannelsUsed(f.ctx, caseID)
		if err != nil || !slices.Equal(used, []id.ID{f.phone, f.email}) {
			t.Fatalf("channels used %v %v", used, err)
		}
		f.advance(time.Minute)
		res, err = f.cases.Reply(f.ctx, ada, caseID, cases.Reply{Body: "Calling you back"})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.Interactions.Get(f.ctx, res.ID); got.Kind != "call" || *got.ContactPointID != f.phone {
			t.Fatalf("default reply channel %+v", got)
		}

		_, err = f.cases.Reply(f.ctx, ada, caseID, cases.Reply{Body: "  "})
		wantInvalid(t, err, "body")
		_, err = f.cases.Reply(f.ctx, ada, caseID, cases.Reply{Body: "x", Status: "done"})
		wantInvalid(t, err, "status")
		if _, err := f.cases.Reply(f.ctx, ada, 4242, cases.Reply{Body: "x"}); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("reply on an unknown case: %v", err)
		}
		f.checkCounts(t, ada.UserID, nil)
	})
}

func TestCanned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ada := cases.Actor{Name: "Ada Agent"}
		_, err := f.cases.SaveCanned(f.ctx, ada, cases.Canned{Name: "Hi", Body: "Hello {{customer.nickname}}"})
		wantInvalid(t, err, "body")
		_, err = f.cases.SaveCanned(f.ctx, ada, cases.Canned{Name: " ", Body: "Hello"})
		wantInvalid(t, err, "name")
		_, err = f.cases.SaveCanned(f.ctx, ada, cases.Canned{Name: "Hi", Body: "Hello", TeamID: ptr(id.ID(4242))})
		wantInvalid(t, err, "team_id")
		saved, err := f.cases.SaveCanned(f.ctx, ada, cases.Canned{Name: "Greeting", Shortcut: "/hi",
			Body: "Hello {{ customer.first_name }}, {{agent.first_name}} here about case {{case.id}} ({{case.subject}})."})
		if err != nil || saved.CreatedBy != "Ada Agent" {
			t.Fatalf("saved %+v %v", saved, err)
		}
		saved.Name = "Greeting (short)"
		if _, err := f.cases.SaveCanned(f.ctx, ada, *saved); err != nil {
			t.Fatal(err)
		}
		list, err := f.cases.CannedResponses(f.ctx)
		if err != nil || len(list) != 1 || list[0].Name != "Greeting (short)" || list[0].Body != saved.Body {
			t.Fatalf("canned responses %+v %v", list, err)
		}

		c := &cases.Case{ID: 77, Subject: "Broken lid"}
		got := cases.RenderCanned(list[0].Body, cases.CannedVars(c, "Olga Berg", "Ada Agent"))
		if want := "Hello Olga, Ada here about case 77 (Broken lid)."; got != want {
			t.Fatalf("rendered %q, want %q", got, want)
		}
		if got := cases.RenderCanned("Hi {{customer.first_name}} {{other}}", cases.CannedVars(nil, "", "Ada")); got != "Hi there {{other}}" {
			t.Fatalf("rendered without a name: %q", got)
		}
	})
}
