package cases_test

import (
	"slices"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func TestInboundContactsJoinOneCaseAcrossChannels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		// Another person is on file under a phone number only.
		other, _, err := f.s.Customers.Create(f.ctx, customer.Profile{Identifiers: phoneOf("+1 212 555 0142")}, "test")
		if err != nil {
			t.Fatal(err)
		}

		first := f.mail(t, "ann@example.com", "Where is my parcel?")
		caseID := caseOf(first)
		if caseID == 0 {
			t.Fatal("an inbound email opened no case")
		}
		opened := f.clock()
		c := f.get(t, caseID)
		if c.Status != cases.New || c.Channel != "email" || c.Subject != "Where is my parcel?" || c.InteractionCount != 1 ||
			c.CustomerID != first.CustomerID || c.ContactPointID == nil || *c.ContactPointID != f.email ||
			!same(c.LastInboundAt, &opened) || c.Priority != cases.DefaultPriority {
			t.Fatalf("opened case %+v", c)
		}

		// A page view carrying both identifiers shows they are one person:
		// the customers merge, and a page view joins no case.
		f.advance(time.Hour)
		pv := f.record(t, interaction.Input{Identifiers: append(emailOf("ann@example.com"), phoneOf("+1 212 555 0142")...),
			ContactPointID: f.web, Kind: "page_view", Direction: interaction.Passive})[0]
		if pv.CaseID != nil {
			t.Fatalf("a page view joined case %s", *pv.CaseID)
		}
		root, members, err := f.s.Customers.Members(f.ctx, other.ID)
		if err != nil || len(members) != 2 || root != pv.CustomerID {
			t.Fatalf("customers did not merge: root %s members %v err %v", root, members, err)
		}

		// The next day Ann calls from the phone number only: same case.
		f.advance(23 * time.Hour)
		call := f.record(t, interaction.Input{Identifiers: phoneOf("+1 212 555 0142"), ContactPointID: f.phone, Kind: "call",
			Direction: interaction.Inbound, Summary: "asks again about the parcel"})[0]
		if caseOf(call) != caseID {
			t.Fatalf("the call landed on case %v, want the open case %s", call.CaseID, caseID)
		}
		called := f.clock()
		c = f.get(t, caseID)
		if c.InteractionCount != 2 || !same(c.LastInboundAt, &called) || c.Channel != "email" || c.Status != cases.New {
			t.Fatalf("after the call: %+v", c)
		}
		got, err := f.s.Interactions.Get(f.ctx, call.ID)
		if err != nil || got.CaseID == nil || *got.CaseID != caseID {
			t.Fatalf("stored call %+v (%v) is not on the case", got, err)
		}
		all, err := f.cases.ForCustomer(f.ctx, other.ID)
		if err != nil || len(all) != 1 || all[0].ID != caseID {
			t.Fatalf("cases of the merged customer: %v %v", all, err)
		}

		h := f.history(t, caseID)
		if k := kindsOf(h); !slices.Equal(k, []string{"created", "interaction_linked", "interaction_linked"}) {
			t.Fatalf("history %v", k)
		}
		if h[0].ActorName != cases.System.Name || !h[0].At.Equal(opened) || h[0].Detail["channel"] != "email" {
			t.Fatalf("created entry %+v", h[0])
		}
		if h[1].Detail["opened_case"] != true || h[1].Detail["interaction_id"] != first.ID.String() || !h[1].At.Equal(opened) {
			t.Fatalf("first link %+v", h[1])
		}
		if h[2].Detail["interaction_id"] != call.ID.String() || h[2].Detail["kind"] != "call" || !h[2].At.Equal(called) ||
			h[2].ActorName == "" {
			t.Fatalf("second link %+v", h[2])
		}
	})
}

func TestWhatOpensAndJoinsCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		quiet := f.contactPoint(t, "email", "No-reply inbox", map[string]any{"opens_cases": false})
		apiCP := f.contactPoint(t, "api", "Webhook", map[string]any{"opens_cases": true})

		// Passive touches and contact points that do not open cases.
		res := f.record(t,
			interaction.Input{Identifiers: emailOf("bo@example.com"), ContactPointID: f.web, Kind: "page_view", Direction: interaction.Passive},
			interaction.Input{Identifiers: emailOf("bo@example.com"), ContactPointID: f.web, Kind: "form_submit", Direction: interaction.Inbound},
			interaction.Input{Identifiers: emailOf("bo@example.com"), ContactPointID: quiet, Kind: "email", Direction: interaction.Inbound, Subject: "auto-reply"},
			interaction.Input{Identifiers: emailOf("bo@example.com"), ContactPointID: f.email, Kind: "email", Direction: interaction.Outbound, Subject: "newsletter"},
		)
		for i, r := range res {
			if r.CaseID != nil {
				t.Fatalf("item %d landed on case %s", i, *r.CaseID)
			}
		}
		if cs, _ := f.cases.ForCustomer(f.ctx, res[0].CustomerID); len(cs) != 0 {
			t.Fatalf("%d cases opened, want none", len(cs))
		}
		// A contact point's settings may open cases where its kind does not.
		r := f.record(t, interaction.Input{Identifiers: emailOf("bo@example.com"), ContactPointID: apiCP, Kind: "message",
			Direction: interaction.Inbound, Content: "Ticket from the webhook"})[0]
		if r.CaseID == nil {
			t.Fatalf("the api contact point with opens_cases did not open a case: %+v", r)
		}
		bo := *r.CaseID
		if c := f.get(t, bo); c.Channel != "api" || c.InteractionCount != 1 || c.Subject != "Ticket from the webhook" {
			t.Fatalf("case opened by the webhook: %+v", c)
		}

		// Once a case is open, an inbound contact on a contact point that does
		// not open cases still joins it.
		r = f.record(t, interaction.Input{Identifiers: emailOf("bo@example.com"), ContactPointID: f.web, Kind: "form_submit",
			Direction: interaction.Inbound})[0]
		if caseOf(r) != bo {
			t.Fatalf("form on the website: case %v, want %s", r.CaseID, bo)
		}

		// An interaction naming its case joins it, whatever its direction.
		pv := f.record(t, interaction.Input{Identifiers: emailOf("bo@example.com"), ContactPointID: f.web, Kind: "page_view",
			Direction: interaction.Passive, CaseID: &bo})[0]
		if caseOf(pv) != bo || f.get(t, bo).InteractionCount != 3 {
			t.Fatalf("explicit case: %v, count %d", pv.CaseID, f.get(t, bo).InteractionCount)
		}

		// An unknown case refuses the whole batch: nothing is stored.
		before, _ := f.s.Interactions.Count(f.ctx)
		custBefore, _ := f.s.Customers.Count(f.ctx)
		bogus := id.ID(12345)
		_, err := f.tryRecord(
			interaction.Input{Identifiers: emailOf("cy@example.com"), ContactPointID: f.email, Kind: "email", Subject: "hello"},
			interaction.Input{Identifiers: emailOf("cy@example.com"), ContactPointID: f.phone, Kind: "call", CaseID: &bogus},
		)
		wantInvalid(t, err, "case_id")
		after, _ := f.s.Interactions.Count(f.ctx)
		custAfter, _ := f.s.Customers.Count(f.ctx)
		if after != before || custAfter != custBefore {
			t.Fatalf("a refused batch stored %d interactions and %d customers", after-before, custAfter-custBefore)
		}
		if found, _ := f.s.Customers.FindByIdentifier(f.ctx, "cy@example.com"); len(found) != 0 {
			t.Fatal("a refused batch left its customer behind")
		}

		// Naming another customer's case is refused too: a case holds the
		// contacts of one customer.
		_, err = f.tryRecord(interaction.Input{Identifiers: emailOf("dee@example.com"), ContactPointID: f.phone, Kind: "call", CaseID: &bo})
		wantInvalid(t, err, "case_id")
		if c := f.get(t, bo); c.InteractionCount != 3 {
			t.Fatalf("another customer's call was counted on the case: %d", c.InteractionCount)
		}
	})
}
