package cases_test

import (
	"errors"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func TestJoinRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		f.reason(t, "delivery", "Delivery")
		f.reason(t, "billing", "Billing")
		rule, err := f.cases.JoinRule(f.ctx)
		if err != nil || rule != cases.DefaultJoinRule {
			t.Fatalf("rule before any is set: %+v %v", rule, err)
		}
		in := func(reason string) interaction.Input {
			return interaction.Input{Identifiers: emailOf("eve@example.com"), ContactPointID: f.email, Kind: "email",
				Subject: "about " + reason, Reason: reason}
		}
		delivery := caseOf(f.record(t, in("delivery"))[0])
		if c := f.get(t, delivery); c.Reason != "delivery" {
			t.Fatalf("case reason %q, want delivery", c.Reason)
		}
		// A different known reason opens its own case…
		f.advance(time.Hour)
		billing := caseOf(f.record(t, in("billing"))[0])
		if billing == 0 || billing == delivery {
			t.Fatalf("a billing question landed on case %s (delivery case %s)", billing, delivery)
		}
		// …a contact without a reason joins the most recently active case, and
		// one with a reason joins the case about it.
		f.advance(time.Hour)
		if got := caseOf(f.record(t, in(""))[0]); got != billing {
			t.Fatalf("a contact without a reason joined %s, want the latest case %s", got, billing)
		}
		f.advance(time.Hour)
		if got := caseOf(f.record(t, in("delivery"))[0]); got != delivery {
			t.Fatalf("a delivery contact joined %s, want %s", got, delivery)
		}

		// Without the same-reason rule any open case will do.
		if err := f.cases.SetJoinRule(f.ctx, cases.JoinRule{WindowHours: 48, SameReason: false}); err != nil {
			t.Fatal(err)
		}
		if rule, _ := f.cases.JoinRule(f.ctx); rule.WindowHours != 48 || rule.SameReason {
			t.Fatalf("stored rule %+v", rule)
		}
		f.reason(t, "returns", "Returns")
		f.advance(time.Hour)
		if got := caseOf(f.record(t, in("returns"))[0]); got != delivery {
			t.Fatalf("without same_reason a returns contact joined %s, want the latest case %s", got, delivery)
		}

		// Outside the window a new case opens.
		f.advance(49 * time.Hour)
		late := caseOf(f.record(t, in(""))[0])
		if late == 0 || late == delivery || late == billing {
			t.Fatalf("a contact after the window joined %s", late)
		}
		if err := f.cases.SetJoinRule(f.ctx, cases.JoinRule{WindowHours: 0}); err == nil {
			t.Fatal("a zero window was accepted")
		}
	})
}

func TestStatusFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		agent := cases.Actor{UserID: f.user(t, "ada@example.com", "Ada Agent"), Name: "Ada Agent"}
		first := f.mail(t, "fay@example.com", "Broken kettle")
		caseID := caseOf(first)

		f.advance(time.Minute)
		c := f.update(t, agent, caseID, cases.Patch{Status: ptr(cases.WaitingCustomer)})
		if c.Status != cases.WaitingCustomer {
			t.Fatalf("status %s", c.Status)
		}
		// The customer answers: the case is open again and the history says why.
		f.advance(time.Hour)
		if got := caseOf(f.mail(t, "fay@example.com", "Re: Broken kettle")); got != caseID {
			t.Fatalf("the answer joined %s, want %s", got, caseID)
		}
		c = f.get(t, caseID)
		if c.Status != cases.Open || c.InteractionCount != 2 {
			t.Fatalf("after the customer's answer: %s, %d interactions", c.Status, c.InteractionCount)
		}
		st := events(f.history(t, caseID), "status")
		if len(st) != 2 || st[0].ActorName != "Ada Agent" || st[0].Detail["to"] != cases.WaitingCustomer ||
			st[1].ActorName != cases.System.Name || st[1].Detail["from"] != cases.WaitingCustomer || st[1].Detail["to"] != cases.Open {
			t.Fatalf("status history %+v", st)
		}

		// Resolved: the next contact opens a new case.
		f.advance(time.Minute)
		c = f.update(t, agent, caseID, cases.Patch{Status: ptr(cases.Resolved), Resolution: ptr("Sent a new kettle")})
		resolvedAt := f.clock()
		if c.Status != cases.Resolved || !same(c.ResolvedAt, &resolvedAt) || c.Resolution != "Sent a new kettle" {
			t.Fatalf("resolved case %+v", c)
		}
		f.advance(time.Hour)
		next := caseOf(f.mail(t, "fay@example.com", "Thanks!"))
		if next == 0 || next == caseID {
			t.Fatalf("a contact after resolving joined %s", next)
		}

		// Reopening clears the resolution time; a closed case only reopens.
		c = f.update(t, agent, caseID, cases.Patch{Status: ptr(cases.WaitingCustomer)})
		if c.Status != cases.WaitingCustomer || c.ResolvedAt != nil || f.get(t, caseID).ResolvedAt != nil {
			t.Fatalf("reopened to waiting: %s resolved_at %v", c.Status, c.ResolvedAt)
		}
		if r := events(f.history(t, caseID), "reopened"); len(r) != 1 || r[0].Detail["from"] != cases.Resolved {
			t.Fatalf("reopen history %+v", r)
		}
		c = f.update(t, agent, caseID, cases.Patch{Status: ptr(cases.Closed)})
		if c.ClosedAt == nil || c.ResolvedAt == nil {
			t.Fatalf("closed case %+v", c)
		}
		for _, to := range []string{cases.New, cases.WaitingCustomer, cases.WaitingUs, cases.Resolved} {
			_, err := f.cases.Update(f.ctx, agent, caseID, cases.Patch{Status: ptr(to)})
			wantInvalid(t, err, "status")
		}
		_, err := f.cases.Update(f.ctx, agent, caseID, cases.Patch{Status: ptr("pending")})
		wantInvalid(t, err, "status")
		c = f.update(t, agent, caseID, cases.Patch{Status: ptr(cases.Open)})
		if c.Status != cases.Open || c.ClosedAt != nil || c.ResolvedAt != nil {
			t.Fatalf("reopened closed case %+v", c)
		}
		stored := f.get(t, caseID)
		if stored.Status != cases.Open || stored.ClosedAt != nil || stored.ResolvedAt != nil || stored.Version != c.Version {
			t.Fatalf("stored reopened case %+v, returned %+v", stored, c)
		}

		// A new case by hand must start open; its customer must exist.
		_, err = f.cases.Create(f.ctx, agent, cases.NewCase{CustomerID: first.CustomerID, Subject: "x", Status: cases.Resolved})
		wantInvalid(t, err, "status")
		_, err = f.cases.Create(f.ctx, agent, cases.NewCase{CustomerID: 99, Subject: "x"})
		wantInvalid(t, err, "customer_id")
		if _, err := f.cases.Get(f.ctx, 99); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("unknown case: %v", err)
		}
		f.checkCounts(t, agent.UserID, nil)
	})
}

func TestCustomerAnswerReopensResolvedCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ada := cases.Actor{UserID: f.user(t, "ada@example.com", "Ada Agent"), Name: "Ada Agent"}
		if _, err := f.cases.SavePolicy(f.ctx, cases.Policy{Name: "Around the clock", FirstResponse: 3600, Resolution: 8 * 3600}); err != nil {
			t.Fatal(err)
		}
		caseID := caseOf(f.mail(t, "ola@example.com", "Invoice"))
		f.advance(time.Hour)
		c := f.update(t, ada, caseID, cases.Patch{Status: ptr(cases.Resolved)})
		if c.SLA.NextDue() != nil {
			t.Fatalf("a resolved case has clocks running: %+v", c.SLA)
		}
		// Ola answers the resolution mail (the channel knows the case).
		f.advance(24 * time.Hour)
		r := f.record(t, interaction.Input{Identifiers: emailOf("ola@example.com"), ContactPointID: f.email, Kind: "email",
			Subject: "Re: Invoice", CaseID: &caseID})[0]
		c = f.get(t, caseID)
		if caseOf(r) != caseID || c.Status != cases.Open || c.ResolvedAt != nil || c.InteractionCount != 2 {
			t.Fatalf("after the answer: %+v", c)
		}
		wantDue(t, "resolution", c.SLA.ResolutionDue, f.clock().Add(8*time.Hour))
		if c.SLA.State != cases.SLAOK {
			t.Fatalf("SLA of the reopened case %+v", c.SLA)
		}
		ro := events(f.history(t, caseID), "reopened")
		if len(ro) != 1 || ro[0].ActorName != cases.System.Name || ro[0].Detail["from"] != cases.Resolved || ro[0].Detail["to"] != cases.Open {
			t.Fatalf("reopen history %+v", ro)
		}
		// A closed case stays closed: the contact is kept on it, for the record.
		c = f.update(t, ada, caseID, cases.Patch{Status: ptr(cases.Closed)})
		f.advance(time.Hour)
		f.record(t, interaction.Input{Identifiers: emailOf("ola@example.com"), ContactPointID: f.email, Kind: "email", CaseID: &caseID})
		if c = f.get(t, caseID); c.Status != cases.Closed || c.InteractionCount != 3 {
			t.Fatalf("closed case after a contact naming it: %s, %d", c.Status, c.InteractionCount)
		}
		f.checkCounts(t, ada.UserID, nil)
	})
}
