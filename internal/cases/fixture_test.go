package cases_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// services are wired as internal/app wires them (app.NewServices), without
// the web layer on top, so that these tests build on the domain alone.
type services struct {
	Access        *access.Service
	ContactPoints *contactpoint.Service
	Customers     *customer.Service
	Interactions  *interaction.Service
	Cases         *cases.Service
	Bus           *bus.Local
}

func newServices(db *store.DB) *services {
	customers := customer.NewService(db, "US")
	interactions := interaction.NewService(db, customers)
	b := bus.NewLocal()
	return &services{
		Access:        access.NewService(db),
		ContactPoints: contactpoint.NewService(db),
		Customers:     customers,
		Interactions:  interactions,
		Cases:         cases.NewService(db, customers, interactions, b, nil),
		Bus:           b,
	}
}

// fixture is a wired hub on a fresh store with a hand-moved clock and a few
// contact points of the kinds the tests need.
type fixture struct {
	ctx   context.Context
	s     *services
	cases *cases.Service

	mu  sync.Mutex
	now time.Time

	email, phone, sms, web, chat id.ID
}

// start is a Monday morning in the past (interactions may not lie in the future).
var start = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), s: newServices(db), now: start}
	t.Cleanup(func() { f.s.Bus.Close() })
	f.cases = f.s.Cases
	f.cases.SetClock(f.clock)
	f.email = f.contactPoint(t, "email", "Support mailbox", nil)
	f.phone = f.contactPoint(t, "phone", "Support line", nil)
	f.sms = f.contactPoint(t, "sms", "Text line", nil)
	f.web = f.contactPoint(t, "website", "Web shop", nil)
	f.chat = f.contactPoint(t, "web_chat", "Chat", nil)
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) set(t time.Time) {
	f.mu.Lock()
	f.now = t.UTC()
	f.mu.Unlock()
}

func (f *fixture) advance(d time.Duration) { f.set(f.clock().Add(d)) }

func (f *fixture) contactPoint(t *testing.T, kind contactpoint.Kind, name string, settings map[string]any) id.ID {
	t.Helper()
	spec := contactpoint.Spec{Kind: &kind, Name: &name}
	if settings != nil {
		b, _ := json.Marshal(settings)
		spec.Settings = b
	}
	c, err := f.s.ContactPoints.Create(f.ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (f *fixture) user(t *testing.T, email, name string) id.ID {
	t.Helper()
	u, err := f.s.Access.CreateUser(f.ctx, email, name, access.Agent, "correct horse battery", "test")
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func (f *fixture) team(t *testing.T, name string) id.ID {
	t.Helper()
	tm, err := f.s.Access.CreateTeam(f.ctx, name, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	return tm.ID
}

func (f *fixture) reason(t *testing.T, code, name string) {
	t.Helper()
	if _, err := f.cases.SaveReason(f.ctx, cases.Reason{Code: code, Name: name}); err != nil {
		t.Fatal(err)
	}
}

func emailOf(v string) []customer.RawIdentifier {
	return []customer.RawIdentifier{{Kind: "email", Value: v}}
}

func phoneOf(v string) []customer.RawIdentifier {
	return []customer.RawIdentifier{{Kind: "phone", Value: v}}
}

// record stores interactions at the fixture's clock (unless they carry
// their own time) and fails the test on error.
func (f *fixture) record(t *testing.T, ins ...interaction.Input) []interaction.Result {
	t.Helper()
	res, err := f.tryRecord(ins...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *fixture) tryRecord(ins ...interaction.Input) ([]interaction.Result, error) {
	for i := range ins {
		if ins[i].OccurredAt.IsZero() {
			ins[i].OccurredAt = f.clock()
		}
	}
	return f.s.Interactions.Record(f.ctx, ins)
}

// mail records an inbound email and returns its result.
func (f *fixture) mail(t *testing.T, from, subject string) interaction.Result {
	t.Helper()
	return f.record(t, interaction.Input{Identifiers: emailOf(from), ContactPointID: f.email, Kind: "email",
		Direction: interaction.Inbound, Subject: subject, Content: "<p>" + subject + "</p>"})[0]
}

func (f *fixture) get(t *testing.T, caseID id.ID) *cases.Case {
	t.Helper()
	c, err := f.cases.Get(f.ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) history(t *testing.T, caseID id.ID) []cases.HistoryEntry {
	t.Helper()
	h, err := f.cases.History(f.ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (f *fixture) update(t *testing.T, actor cases.Actor, caseID id.ID, p cases.Patch) *cases.Case {
	t.Helper()
	c, err := f.cases.Update(f.ctx, actor, caseID, p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// events returns the history entries of one kind.
func events(h []cases.HistoryEntry, kind string) []cases.HistoryEntry {
	var out []cases.HistoryEntry
	for _, e := range h {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func kindsOf(h []cases.HistoryEntry) []string {
	out := make([]string, len(h))
	for i, e := range h {
		out[i] = e.Kind
	}
	return out
}

// caseOf is the case an interaction result landed on, or 0.
func caseOf(r interaction.Result) id.ID {
	if r.CaseID == nil {
		return 0
	}
	return *r.CaseID
}

// wantInvalid fails unless err is an *errs.Invalid naming field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var inv *errs.Invalid
	if !errors.As(err, &inv) || inv.Field != field {
		t.Fatalf("error %v, want invalid %s", err, field)
	}
}

func ptr[T any](v T) *T { return &v }

func same(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func idsOf(items []*cases.InboxItem) []id.ID {
	out := make([]id.ID, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func sortedIDs(v []id.ID) []id.ID {
	out := slices.Clone(v)
	slices.Sort(out)
	return out
}

// checkCounts compares the inbox counts of a user (kept as running totals)
// with the cases each view lists.
func (f *fixture) checkCounts(t *testing.T, userID id.ID, teamIDs []id.ID) {
	t.Helper()
	counts, err := f.cases.Counts(f.ctx, userID, teamIDs)
	if err != nil {
		t.Fatal(err)
	}
	for _, view := range cases.Views {
		q := cases.InboxQuery{View: view, UserID: userID, TeamIDs: teamIDs, Limit: 200}
		n := 0
		for {
			page, err := f.cases.Inbox(f.ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Items)
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
		if counts[view] != n {
			t.Fatalf("count of %s is %d, the view lists %d (counts %v)", view, counts[view], n, counts)
		}
	}
}
