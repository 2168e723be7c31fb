package cases_test

import (
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

var berlin = mustLoad("Europe/Berlin")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at is a wall time in Berlin in May 2026: Friday the 22nd, Whit Monday
// the 25th (a holiday), Tuesday the 26th…
func at(day, hour, minute int) time.Time {
	return time.Date(2026, 5, day, hour, minute, 0, 0, berlin)
}

// officeHours saves the Berlin office calendar with Whit Monday off.
func (f *fixture) officeHours(t *testing.T) id.ID {
	t.Helper()
	week := map[string]string{"mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00", "thu": "09:00-17:00", "fri": "09:00-17:00"}
	c, err := f.cases.SaveCalendar(f.ctx, cases.Calendar{Name: "Berlin office", Timezone: "Europe/Berlin", Week: week,
		Holidays: []string{"2026-05-25"}})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (f *fixture) policy(t *testing.T, p cases.Policy) *cases.Policy {
	t.Helper()
	out, err := f.cases.SavePolicy(f.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) checkSLA(t *testing.T, now time.Time) int {
	t.Helper()
	f.set(now)
	n, err := f.cases.CheckSLA(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func wantDue(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Fatalf("%s due %v, want %v", what, got, want.UTC())
	}
}

// slaEvents returns the warnings or breaches of one clock.
func slaEvents(h []cases.HistoryEntry, kind, clock string) []cases.HistoryEntry {
	var out []cases.HistoryEntry
	for _, e := range events(h, kind) {
		if e.Detail["clock"] == clock {
			out = append(out, e)
		}
	}
	return out
}

func TestSLAClocksOnBusinessHours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ada := cases.Actor{UserID: f.user(t, "ada@example.com", "Ada Agent"), Name: "Ada Agent"}
		cal := f.officeHours(t)
		pol := f.policy(t, cases.Policy{Name: "Standard", CalendarID: &cal, FirstResponse: 3600, NextResponse: 2 * 3600, Resolution: 8 * 3600})
		if pol.WarnPercent != 80 {
			t.Fatalf("warn percent %d, want the default 80", pol.WarnPercent)
		}

		// Friday 16:30: half an hour is left that day; Monday is a holiday.
		f.set(at(22, 16, 30))
		ivy := caseOf(f.mail(t, "ivy@example.com", "Order missing"))
		jon := caseOf(f.mail(t, "jon@example.com", "Wrong size"))
		c := f.get(t, ivy)
		if c.SLA.PolicyID == nil || *c.SLA.PolicyID != pol.ID || c.SLA.State != cases.SLAOK {
			t.Fatalf("SLA of a new case %+v", c.SLA)
		}
		wantDue(t, "first response", c.SLA.FirstResponseDue, at(26, 9, 30))
		wantDue(t, "resolution", c.SLA.ResolutionDue, at(26, 16, 30))
		wantDue(t, "next", c.SLA.NextDue(), at(26, 9, 30))
		if c.SLA.NextResponseDue != nil {
			t.Fatalf("a next response is due before any first response: %v", c.SLA.NextResponseDue)
		}

		// Nothing happens over the weekend and the holiday.
		if n := f.checkSLA(t, at(25, 16, 0)); n != 0 {
			t.Fatalf("%d cases changed on the holiday", n)
		}
		// Tuesday 09:19: 11 of the 60 minutes are left, under the 20% warning share.
		if n := f.checkSLA(t, at(26, 9, 19)); n != 2 {
			t.Fatalf("%d cases warned, want 2", n)
		}
		if n := f.checkSLA(t, at(26, 9, 20)); n != 0 {
			t.Fatalf("%d cases changed again", n)
		}
		c = f.get(t, ivy)
		w := slaEvents(f.history(t, ivy), "sla_warning", cases.ClockFirstResponse)
		if c.SLA.State != cases.SLAWarning || len(w) != 1 || !w[0].At.Equal(at(26, 9, 19)) || w[0].ActorName != cases.System.Name {
			t.Fatalf("after the warning: state %s, warnings %+v", c.SLA.State, w)
		}
		// Past the target: a breach, at the due time.
		if n := f.checkSLA(t, at(26, 9, 31)); n != 2 {
			t.Fatalf("%d cases breached, want 2", n)
		}
		c = f.get(t, ivy)
		b := slaEvents(f.history(t, ivy), "sla_breach", cases.ClockFirstResponse)
		if c.SLA.State != cases.SLABreached || !same(c.SLA.BreachedAt, ptr(at(26, 9, 30))) || len(b) != 1 {
			t.Fatalf("after the breach: %+v, breaches %+v", c.SLA, b)
		}
		page, err := f.cases.Inbox(f.ctx, cases.InboxQuery{SLA: []string{cases.SLABreached}})
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("inbox of breached cases: %v %v", page, err)
		}

		// Ada answers Ivy late: the first response is recorded, its clock
		// stops, the breach stays on the case.
		f.set(at(26, 10, 0))
		if _, err := f.cases.Reply(f.ctx, ada, ivy, cases.Reply{Body: "It left the warehouse today."}); err != nil {
			t.Fatal(err)
		}
		c = f.get(t, ivy)
		if !same(c.FirstResponseAt, ptr(at(26, 10, 0))) || c.SLA.FirstResponseDue != nil || !same(c.SLA.BreachedAt, ptr(at(26, 9, 30))) ||
			c.SLA.State != cases.SLAOK {
			t.Fatalf("after the first response: first_response_at %v, %+v", c.FirstResponseAt, c.SLA)
		}
		if b := events(f.history(t, ivy), "sla_breach"); len(b) != 1 {
			t.Fatalf("the late answer recorded %d breaches, want the one", len(b))
		}

		// Ivy writes back: the next-response clock runs until staff answer,
		// here by an outbound call logged with its staff member.
		f.set(at(26, 11, 0))
		f.mail(t, "ivy@example.com", "Re: Order missing")
		wantDue(t, "next response", f.get(t, ivy).SLA.NextResponseDue, at(26, 13, 0))
		f.set(at(26, 11, 30))
		call := f.record(t, interaction.Input{Identifiers: emailOf("ivy@example.com"), ContactPointID: f.phone, Kind: "call",
			Direction: interaction.Outbound, StaffID: &ada.UserID, StaffName: "Ada Agent", CaseID: &ivy})[0]
		c = f.get(t, ivy)
		if caseOf(call) != ivy || c.SLA.NextResponseDue != nil || !same(c.LastOutboundAt, ptr(at(26, 11, 30))) ||
			!same(c.FirstResponseAt, ptr(at(26, 10, 0))) {
			t.Fatalf("after the call back: %+v", c)
		}

		// Jon is never answered: after the first-response breach, the
		// resolution clock still warns and breaches on its own.
		f.checkSLA(t, at(26, 15, 0))
		f.checkSLA(t, at(26, 16, 31))
		h := f.history(t, jon)
		if w := slaEvents(h, "sla_warning", cases.ClockResolution); len(w) != 1 {
			t.Fatalf("resolution warnings of an already breached case: %+v", w)
		}
		if b := slaEvents(h, "sla_breach", cases.ClockResolution); len(b) != 1 || b[0].Detail["due"] != at(26, 16, 30).UTC().Format(time.RFC3339) {
			t.Fatalf("resolution breaches of an already breached case: %+v", b)
		}
		if b := slaEvents(h, "sla_breach", cases.ClockFirstResponse); len(b) != 1 {
			t.Fatalf("first-response breaches recorded again: %+v", b)
		}
		c = f.get(t, jon)
		if c.SLA.State != cases.SLABreached || !same(c.SLA.BreachedAt, ptr(at(26, 9, 30))) {
			t.Fatalf("Jon's SLA %+v", c.SLA)
		}
		// Resolving stops every clock.
		c = f.update(t, ada, jon, cases.Patch{Status: ptr(cases.Resolved)})
		if c.SLA.NextDue() != nil {
			t.Fatalf("a resolved case has clocks running: %+v", c.SLA)
		}
		if n := f.checkSLA(t, at(29, 12, 0)); n != 0 {
			t.Fatalf("%d cases changed after everything was answered or resolved", n)
		}
	})
}

func TestSLAPausedWhileWaitingOnCustomer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ada := cases.Actor{UserID: f.user(t, "ada@example.com", "Ada Agent"), Name: "Ada Agent"}
		cal := f.officeHours(t)
		f.policy(t, cases.Policy{Name: "Standard", CalendarID: &cal, FirstResponse: 3600, Resolution: 8 * 3600})
		f.policy(t, cases.Policy{Name: "High", Priority: "high", CalendarID: &cal, FirstResponse: 1800, Resolution: 4 * 3600})

		f.set(at(26, 9, 0))
		kim := caseOf(f.mail(t, "kim@example.com", "Cannot log in"))
		lou := caseOf(f.mail(t, "lou@example.com", "Cannot log in either"))
		wantDue(t, "first response", f.get(t, kim).SLA.FirstResponseDue, at(26, 10, 0))
		wantDue(t, "resolution", f.get(t, kim).SLA.ResolutionDue, at(26, 17, 0))

		// 09:15: both wait on the customer; a day passes, past every target.
		f.set(at(26, 9, 15))
		for _, cid := range []id.ID{kim, lou} {
			c := f.update(t, ada, cid, cases.Patch{Status: ptr(cases.WaitingCustomer)})
			if c.SLA.State != cases.SLAPaused || !same(c.SLA.PausedAt, ptr(at(26, 9, 15))) {
				t.Fatalf("waiting case SLA %+v", c.SLA)
			}
		}
		if n := f.checkSLA(t, at(27, 12, 0)); n != 0 {
			t.Fatalf("%d paused cases changed", n)
		}
		for _, cid := range []id.ID{kim, lou} {
			c := f.get(t, cid)
			h := f.history(t, cid)
			if c.SLA.State != cases.SLAPaused || c.SLA.BreachedAt != nil || len(events(h, "sla_breach"))+len(events(h, "sla_warning")) != 0 {
				t.Fatalf("a paused case breached: %+v %v", c.SLA, kindsOf(h))
			}
		}

		// Kim writes back on Wednesday 12:00: open again, and the 45 minutes
		// and 7¾ hours that were left run from now.
		f.mail(t, "kim@example.com", "Re: Cannot log in")
		c := f.get(t, kim)
		if c.Status != cases.Open || c.SLA.State != cases.SLAOK || c.SLA.PausedAt != nil {
			t.Fatalf("after the customer's answer: %s %+v", c.Status, c.SLA)
		}
		wantDue(t, "first response", c.SLA.FirstResponseDue, at(27, 12, 45))
		wantDue(t, "resolution", c.SLA.ResolutionDue, at(28, 11, 45))
		// Lou's case is reopened by an agent: the same shift.
		c = f.update(t, ada, lou, cases.Patch{Status: ptr(cases.WaitingUs)})
		if c.SLA.State != cases.SLAOK || c.SLA.PausedAt != nil {
			t.Fatalf("resumed by hand: %+v", c.SLA)
		}
		wantDue(t, "first response", c.SLA.FirstResponseDue, at(27, 12, 45))
		wantDue(t, "resolution", c.SLA.ResolutionDue, at(28, 11, 45))
		if got := f.get(t, lou); !same(got.SLA.FirstResponseDue, c.SLA.FirstResponseDue) || got.SLA.State != cases.SLAOK {
			t.Fatalf("stored %+v, returned %+v", got.SLA, c.SLA)
		}

		// Lou's priority goes up: the stricter targets count the business
		// time used before and after the wait, not the wait (20 minutes of
		// each clock are used by 12:05).
		f.set(at(27, 12, 5))
		c = f.update(t, ada, lou, cases.Patch{Priority: ptr("high")})
		if c.SLA.State != cases.SLAOK || c.SLA.BreachedAt != nil || len(events(f.history(t, lou), "sla_breach")) != 0 {
			t.Fatalf("raising the priority after a wait breached the case: %+v", c.SLA)
		}
		wantDue(t, "high first response", c.SLA.FirstResponseDue, at(27, 12, 15))
		wantDue(t, "high resolution", c.SLA.ResolutionDue, at(27, 15, 45))

		// Clocks then warn and breach as usual.
		if n := f.checkSLA(t, at(27, 12, 46)); n != 2 {
			t.Fatalf("%d cases breached after resuming, want 2", n)
		}
		c = f.get(t, kim)
		if c.SLA.State != cases.SLABreached || !same(c.SLA.BreachedAt, ptr(at(27, 12, 45))) {
			t.Fatalf("after resuming and missing the target: %+v", c.SLA)
		}
		if c = f.get(t, lou); !same(c.SLA.BreachedAt, ptr(at(27, 12, 15))) {
			t.Fatalf("Lou's breach %+v", c.SLA)
		}
		// A resolved case has no clocks, whatever its priority becomes.
		f.update(t, ada, kim, cases.Patch{Status: ptr(cases.Resolved)})
		if c = f.update(t, ada, kim, cases.Patch{Priority: ptr("high")}); c.SLA.NextDue() != nil {
			t.Fatalf("re-prioritising a resolved case started clocks: %+v", c.SLA)
		}
	})
}

func TestSLAMostSpecificPolicyWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ada := cases.Actor{UserID: f.user(t, "ada@example.com", "Ada Agent"), Name: "Ada Agent"}
		vip := f.team(t, "VIP desk")
		everyone := f.policy(t, cases.Policy{Name: "Everyone", FirstResponse: 4 * 3600})
		teamHigh := f.policy(t, cases.Policy{Name: "VIP high", TeamID: &vip, Priority: "high", FirstResponse: 1800})
		team := f.policy(t, cases.Policy{Name: "VIP", TeamID: &vip, FirstResponse: 2 * 3600})
		urgent := f.policy(t, cases.Policy{Name: "Urgent", Priority: "urgent", FirstResponse: 3600})
		f.policy(t, cases.Policy{Name: "Switched off", TeamID: &vip, Priority: "urgent", FirstResponse: 60, Disabled: true})
		if _, err := f.cases.SavePolicy(f.ctx, cases.Policy{Name: "Bad", Priority: "soon"}); err == nil {
			t.Fatal("a policy for an unknown priority was saved")
		}

		f.set(at(26, 9, 0))
		cust := f.mail(t, "max@example.com", "hello").CustomerID
		mk := func(priority string, team *id.ID) *cases.Case {
			c, err := f.cases.Create(f.ctx, ada, cases.NewCase{CustomerID: cust, Subject: "by hand", Priority: priority, TeamID: team})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		for _, tc := range []struct {
			name     string
			c        *cases.Case
			policy   *cases.Policy
			firstDue time.Duration
		}{
			{"normal, no team", mk("normal", nil), everyone, 4 * time.Hour},
			{"high, VIP", mk("high", &vip), teamHigh, 30 * time.Minute},
			{"normal, VIP", mk("normal", &vip), team, 2 * time.Hour},
			{"urgent, no team", mk("urgent", nil), urgent, time.Hour},
			{"urgent, VIP", mk("urgent", &vip), team, 2 * time.Hour},
		} {
			if tc.c.SLA.PolicyID == nil || *tc.c.SLA.PolicyID != tc.policy.ID {
				t.Fatalf("%s: policy %v, want %s", tc.name, tc.c.SLA.PolicyID, tc.policy.Name)
			}
			wantDue(t, tc.name+" first response", tc.c.SLA.FirstResponseDue, at(26, 9, 0).Add(tc.firstDue))
		}
		// Raising the priority of a VIP case moves it to the stricter policy,
		// counted from the case's creation.
		c := mk("normal", &vip)
		f.set(at(26, 9, 10))
		c = f.update(t, ada, c.ID, cases.Patch{Priority: ptr("high")})
		if c.SLA.PolicyID == nil || *c.SLA.PolicyID != teamHigh.ID {
			t.Fatalf("re-prioritised case has policy %v", c.SLA.PolicyID)
		}
		wantDue(t, "re-prioritised first response", c.SLA.FirstResponseDue, at(26, 9, 30))
		if got := f.get(t, c.ID); got.SLA.PolicyID == nil || *got.SLA.PolicyID != teamHigh.ID || !same(got.SLA.FirstResponseDue, c.SLA.FirstResponseDue) {
			t.Fatalf("stored SLA %+v", got.SLA)
		}
	})
}

// A breached case whose priority changes in the same step that resolves it
// keeps the state its clocks ended in.
func TestSLAStateSurvivesReprioritisingAndResolvingAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ada := cases.Actor{UserID: f.user(t, "ada@example.com", "Ada Agent"), Name: "Ada Agent"}
		f.policy(t, cases.Policy{Name: "Around the clock", FirstResponse: 3600, Resolution: 8 * 3600})
		f.set(at(23, 10, 0))
		c := caseOf(f.mail(t, "kim@example.com", "Broken kettle"))
		if n := f.checkSLA(t, at(23, 11, 1)); n != 1 {
			t.Fatalf("%d cases breached, want 1", n)
		}
		f.set(at(23, 11, 5))
		got := f.update(t, ada, c, cases.Patch{Priority: ptr("urgent"), Status: ptr(cases.Resolved)})
		if got.Status != cases.Resolved || got.Priority != "urgent" || got.SLA.State != cases.SLABreached ||
			!same(got.SLA.BreachedAt, ptr(at(23, 11, 0))) {
			t.Fatalf("after reprioritising and resolving at once: status %s priority %s SLA %+v", got.Status, got.Priority, got.SLA)
		}
	})
}
