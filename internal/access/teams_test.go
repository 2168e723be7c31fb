package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func TestTeams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := access.NewService(db)
		ann := newUser(t, s, "ann@example.com", access.Agent)
		bob := newUser(t, s, "bob@example.com", access.Agent)

		billing, err := s.CreateTeam(ctx, "  Billing ", "Payment questions", "test")
		if err != nil {
			t.Fatal(err)
		}
		if billing.Name != "Billing" || billing.Description != "Payment questions" || billing.Members == nil || len(billing.Members) != 0 {
			t.Fatalf("created %+v", billing)
		}
		if _, err := s.CreateTeam(ctx, "billing", "", "test"); !errors.Is(err, errs.ErrConflict) || !strings.Contains(err.Error(), `"Billing"`) {
			t.Fatalf("duplicate team name: %v", err)
		}
		if _, err := s.CreateTeam(ctx, " ", "", "test"); fieldOf(err) != "name" {
			t.Fatalf("empty name: %v", err)
		}
		if _, err := s.CreateTeam(ctx, strings.Repeat("x", 101), "", "test"); fieldOf(err) != "name" {
			t.Fatalf("long name: %v", err)
		}
		if _, err := s.CreateTeam(ctx, "Verbose", strings.Repeat("x", access.MaxTeamDescription+1), "test"); fieldOf(err) != "description" {
			t.Fatalf("long description: %v", err)
		}
		collections, err := s.CreateTeam(ctx, "collections", "", "test")
		if err != nil {
			t.Fatal(err)
		}

		// Members: duplicates count once, listed oldest user first.
		got, err := s.SetTeamMembers(ctx, billing.ID, []id.ID{bob.ID, ann.ID, bob.ID}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Members, []id.ID{ann.ID, bob.ID}) {
			t.Fatalf("members %v, want ann and bob", got.Members)
		}
		if _, err := s.SetTeamMembers(ctx, collections.ID, []id.ID{bob.ID}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetTeamMembers(ctx, billing.ID, []id.ID{ann.ID, 12345}, "test"); fieldOf(err) != "members" || !strings.Contains(err.Error(), "12345") {
			t.Fatalf("unknown member: %v", err)
		}
		if got, _ := s.GetTeam(ctx, billing.ID); !slices.Equal(got.Members, []id.ID{ann.ID, bob.ID}) {
			t.Fatalf("a refused member list changed the team: %v", got.Members)
		}

		teams, err := s.ListTeams(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(teams) != 2 || teams[0].ID != billing.ID || teams[1].ID != collections.ID ||
			!slices.Equal(teams[0].Members, []id.ID{ann.ID, bob.ID}) || !slices.Equal(teams[1].Members, []id.ID{bob.ID}) {
			t.Fatalf("listed %+v %+v", teams[0], teams[1])
		}
		if of, err := s.TeamsOf(ctx, bob.ID); err != nil || !slices.Equal(of, []id.ID{billing.ID, collections.ID}) {
			t.Fatalf("bob's teams %v %v", of, err)
		}

		got, err = s.SetTeamMembers(ctx, billing.ID, []id.ID{bob.ID}, "test")
		if err != nil || !slices.Equal(got.Members, []id.ID{bob.ID}) {
			t.Fatalf("after removing ann: %+v %v", got, err)
		}
		if of, err := s.TeamsOf(ctx, ann.ID); err != nil || of == nil || len(of) != 0 {
			t.Fatalf("ann's teams %v %v", of, err)
		}
		if got, err = s.SetTeamMembers(ctx, collections.ID, nil, "test"); err != nil || got.Members == nil || len(got.Members) != 0 {
			t.Fatalf("emptying a team: %+v %v", got, err)
		}

		// Renaming: to another team's name is refused, to its own case is not.
		if _, err := s.UpdateTeam(ctx, collections.ID, "BILLING", "", "test"); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("rename onto another team: %v", err)
		}
		got, err = s.UpdateTeam(ctx, collections.ID, "Accounts receivable", "Dunning and payment plans", "test")
		if err != nil || got.Name != "Accounts receivable" || got.Description != "Dunning and payment plans" || got.UpdatedAt.Before(got.CreatedAt) {
			t.Fatalf("rename: %+v %v", got, err)
		}
		if got, err = s.UpdateTeam(ctx, billing.ID, "billing", "Payment questions", "test"); err != nil || got.Name != "billing" {
			t.Fatalf("recasing a team's own name: %+v %v", got, err)
		}
		if again, err := s.GetTeam(ctx, collections.ID); err != nil || again.Name != "Accounts receivable" {
			t.Fatalf("rename not stored: %+v %v", again, err)
		}
		if _, err := s.UpdateTeam(ctx, collections.ID, "", "", "test"); fieldOf(err) != "name" {
			t.Fatalf("empty name: %v", err)
		}

		for _, err := range []error{
			func() error { _, err := s.GetTeam(ctx, 12345); return err }(),
			func() error { _, err := s.UpdateTeam(ctx, 12345, "x", "", "test"); return err }(),
			func() error { _, err := s.SetTeamMembers(ctx, 12345, nil, "test"); return err }(),
		} {
			if !errors.Is(err, errs.ErrNotFound) {
				t.Fatalf("unknown team: %v", err)
			}
		}

		b, _ := json.Marshal(got)
		for _, key := range []string{`"id":"`, `"name":"billing"`, `"description":`, `"members":["` + bob.ID.String() + `"]`, `"created_at":`, `"updated_at":`} {
			if !strings.Contains(string(b), key) {
				t.Fatalf("JSON %s lacks %s", b, key)
			}
		}

		for action, want := range map[string]int{"team.create": 2, "team.update": 2, "team.members": 4} {
			if n := auditCount(t, db, action); n != want {
				t.Fatalf("%d %s entries, want %d", n, action, want)
			}
		}
	})
}
