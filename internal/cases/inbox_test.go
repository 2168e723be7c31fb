package cases_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func TestInbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ada := cases.Actor{UserID: f.user(t, "ada@example.com", "Ada Agent"), Name: "Ada Agent"}
		bob := cases.Actor{UserID: f.user(t, "bob@example.com", "Bob Boss"), Name: "Bob Boss"}
		returns := f.team(t, "Returns")
		f.reason(t, "returns", "Returns")
		f.policy(t, cases.Policy{Name: "Urgent", Priority: "urgent", FirstResponse: 3600})

		// 23 cases: emails, calls and chats; some owned, some on the returns
		// team, some urgent; several share an update time.
		type made struct {
			id              id.ID
			channel, reason string
			priority        string
			owner           id.ID
			team            bool
		}
		var all []made
		channels := []struct {
			cp   id.ID
			kind string
			ch   string
		}{{f.email, "email", "email"}, {f.phone, "call", "phone"}, {f.chat, "chat", "web_chat"}}
		for i := range 23 {
			if i%4 != 0 {
				f.advance(time.Minute) // every fourth case shares its time with the one before
			}
			ch := channels[i%3]
			reason := ""
			if i%5 == 0 {
				reason = "returns"
			}
			r := f.record(t, interaction.Input{Identifiers: emailOf(fmt.Sprintf("c%02d@example.com", i)), ContactPointID: ch.cp,
				Kind: ch.kind, Reason: reason, Subject: fmt.Sprintf("case %02d", i)})[0]
			m := made{id: caseOf(r), channel: ch.ch, reason: reason, priority: "normal"}
			p := cases.Patch{}
			switch i % 3 {
			case 0:
				p.OwnerID, m.owner = cases.OptionalID{Set: true, ID: ada.UserID}, ada.UserID
			case 1:
				if i%2 == 1 {
					p.OwnerID, m.owner = cases.OptionalID{Set: true, ID: bob.UserID}, bob.UserID
				}
			}
			if i%4 == 1 {
				p.TeamID, m.team = cases.OptionalID{Set: true, ID: returns}, true
			}
			if i%6 == 2 {
				p.Priority, m.priority = ptr("urgent"), "urgent"
			}
			if p.OwnerID.Set || p.TeamID.Set || p.Priority != nil {
				f.update(t, ada, m.id, p)
			}
			all = append(all, m)
		}
		// Two cases are resolved: out of the default (open) inbox.
		f.advance(time.Minute)
		f.update(t, ada, all[3].id, cases.Patch{Status: ptr(cases.Resolved)})
		f.update(t, ada, all[4].id, cases.Patch{Status: ptr(cases.Resolved)})
		f.update(t, ada, all[5].id, cases.Patch{Status: ptr(cases.WaitingCustomer)})
		f.update(t, ada, all[6].id, cases.Patch{Priority: ptr("low")})
		all[6].priority = "low"
		open := func(m made) bool { return m.id != all[3].id && m.id != all[4].id }

		// Page through a query with a small limit: every case once, in order.
		pages := func(q cases.InboxQuery) []*cases.InboxItem {
			t.Helper()
			var out []*cases.InboxItem
			seen := map[id.ID]bool{}
			for n := 0; ; n++ {
				if n > 50 {
					t.Fatal("paging does not end")
				}
				page, err := f.cases.Inbox(f.ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Items) > q.Limit {
					t.Fatalf("page of %d items, limit %d", len(page.Items), q.Limit)
				}
				for _, it := range page.Items {
					if seen[it.ID] {
						t.Fatalf("case %s listed twice (sort %s)", it.ID, q.Sort)
					}
					seen[it.ID] = true
				}
				out = append(out, page.Items...)
				if page.NextCursor == "" {
					return out
				}
				q.Cursor = page.NextCursor
			}
		}
		want := func(pred func(m made) bool) []id.ID {
			var out []id.ID
			for _, m := range all {
				if pred(m) {
					out = append(out, m.id)
				}
			}
			return sortedIDs(out)
		}
		rank := map[string]int{"urgent": 0, "high": 1, "normal": 2, "low": 3}
		for _, sort := range cases.Sorts {
			items := pages(cases.InboxQuery{Sort: sort, Limit: 4})
			if got := sortedIDs(idsOf(items)); !slices.Equal(got, want(open)) {
				t.Fatalf("sort %s listed %d cases, want the %d open ones", sort, len(got), len(want(open)))
			}
			for i := 1; i < len(items); i++ {
				a, b := items[i-1], items[i]
				var ok bool
				switch sort {
				case "updated":
					ok = !a.UpdatedAt.Before(b.UpdatedAt)
				case "oldest":
					ok = !a.UpdatedAt.After(b.UpdatedAt)
				case "created":
					ok = !a.CreatedAt.Before(b.CreatedAt)
				case "priority":
					ok = rank[a.Priority] < rank[b.Priority] || (a.Priority == b.Priority && !a.UpdatedAt.After(b.UpdatedAt))
				}
				if !ok {
					t.Fatalf("sort %s: %s (%s, %v) before %s (%s, %v)", sort, a.ID, a.Priority, a.UpdatedAt, b.ID, b.Priority, b.UpdatedAt)
				}
			}
		}
		items := pages(cases.InboxQuery{Statuses: []string{"any"}, Limit: 5})
		if len(items) != len(all) {
			t.Fatalf("status any listed %d, want %d", len(items), len(all))
		}
		for _, it := range items {
			if it.OwnerID != nil && *it.OwnerID == ada.UserID && it.OwnerName != "Ada Agent" {
				t.Fatalf("owner name %q", it.OwnerName)
			}
			if it.TeamID != nil && it.TeamName != "Returns" {
				t.Fatalf("team name %q", it.TeamName)
			}
		}

		// Views and filters.
		check := func(name string, q cases.InboxQuery, pred func(m made) bool) {
			t.Helper()
			q.Limit = 3
			got, w := sortedIDs(idsOf(pages(q))), want(pred)
			if len(w) == 0 && name != "team without teams" {
				t.Fatalf("%s: the test data has no case for this query", name)
			}
			if !slices.Equal(got, w) {
				t.Fatalf("%s: listed %d cases %v, want %d %v", name, len(got), got, len(w), w)
			}
		}
		check("mine", cases.InboxQuery{View: cases.ViewMine, UserID: ada.UserID}, func(m made) bool { return open(m) && m.owner == ada.UserID })
		check("team", cases.InboxQuery{View: cases.ViewTeam, TeamIDs: []id.ID{returns}}, func(m made) bool { return open(m) && m.team })
		check("team without teams", cases.InboxQuery{View: cases.ViewTeam}, func(m made) bool { return false })
		check("unassigned", cases.InboxQuery{View: cases.ViewUnassigned}, func(m made) bool { return open(m) && m.owner == 0 })
		check("all", cases.InboxQuery{View: cases.ViewAll}, open)
		check("resolved", cases.InboxQuery{Statuses: []string{cases.Resolved}}, func(m made) bool { return !open(m) })
		check("waiting", cases.InboxQuery{Statuses: []string{cases.WaitingCustomer}}, func(m made) bool { return m.id == all[5].id })
		check("urgent", cases.InboxQuery{Priorities: []string{"urgent"}}, func(m made) bool { return open(m) && m.priority == "urgent" })
		check("urgent or low", cases.InboxQuery{Priorities: []string{"urgent", "low"}}, func(m made) bool {
			return open(m) && (m.priority == "urgent" || m.priority == "low")
		})
		check("phone", cases.InboxQuery{Channels: []string{"phone"}}, func(m made) bool { return open(m) && m.channel == "phone" })
		check("returns", cases.InboxQuery{Reasons: []string{"returns"}}, func(m made) bool { return open(m) && m.reason == "returns" })
		check("sla ok", cases.InboxQuery{SLA: []string{cases.SLAOK}}, func(m made) bool { return open(m) && m.priority == "urgent" })
		check("sla none", cases.InboxQuery{SLA: []string{cases.SLANone}}, func(m made) bool { return open(m) && m.priority != "urgent" })
		check("mine, email, normal, returns", cases.InboxQuery{View: cases.ViewMine, UserID: ada.UserID, Channels: []string{"email"},
			Priorities: []string{"normal"}, Reasons: []string{"returns"}},
			func(m made) bool {
				return open(m) && m.owner == ada.UserID && m.channel == "email" && m.priority == "normal" && m.reason == "returns"
			})

		counts, err := f.cases.Counts(f.ctx, ada.UserID, []id.ID{returns})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts := map[string]int{
			cases.ViewMine:       len(want(func(m made) bool { return open(m) && m.owner == ada.UserID })),
			cases.ViewTeam:       len(want(func(m made) bool { return open(m) && m.team })),
			cases.ViewUnassigned: len(want(func(m made) bool { return open(m) && m.owner == 0 })),
			cases.ViewAll:        len(want(open)),
		}
		for k, v := range wantCounts {
			if counts[k] != v || v == 0 {
				t.Fatalf("counts %v, want %v", counts, wantCounts)
			}
		}
		if c, _ := f.cases.Counts(f.ctx, bob.UserID, nil); c[cases.ViewTeam] != 0 || c[cases.ViewMine] == 0 {
			t.Fatalf("counts for Bob %v", c)
		}

		for _, q := range []cases.InboxQuery{
			{View: "someone"}, {Sort: "random"}, {Statuses: []string{"pending"}}, {Priorities: []string{"soon"}},
			{SLA: []string{"late"}}, {Cursor: "not a cursor"}, {Limit: 500},
		} {
			if _, err := f.cases.Inbox(f.ctx, q); err == nil {
				t.Fatalf("query %+v was accepted", q)
			}
		}
	})
}
