package customer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func ident(kind identifier.Kind, v string) identifier.Identifier {
	return identifier.Identifier{Kind: kind, Value: v}
}

func resolve(t *testing.T, db *store.DB, s *customer.Service, ev customer.Evidence) customer.Resolution {
	t.Helper()
	var res customer.Resolution
	err := db.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		res, err = s.Resolve(ctx, tx, ev)
		return err
	})
	if err != nil {
		t.Fatalf("resolve %+v: %v", ev.Identifiers, err)
	}
	return res
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestResolveCreatesThenFinds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := customer.NewService(db, "US")
		a := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("email", "ann@example.com")},
			Traits: map[string]any{"firstName": "Ann", "lastName": "Smith"}})
		if !a.Created {
			t.Fatal("first sight of an email must create a customer")
		}
		b := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("email", "ann@example.com"), ident("phone", "+12125550100")}})
		if b.Created || b.CustomerID != a.CustomerID {
			t.Fatalf("known email resolved to %v (created %v), want %v", b.CustomerID, b.Created, a.CustomerID)
		}
		c, err := s.Get(context.Background(), a.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "Ann Smith" || len(c.Identifiers) != 2 {
			t.Fatalf("customer %+v: want name Ann Smith and 2 identifiers", c)
		}
		found, err := s.FindByIdentifier(context.Background(), "phone:(212) 555-0100")
		if err != nil || len(found) != 1 || found[0].ID != a.CustomerID {
			t.Fatalf("find by phone in national form: %v %v", found, err)
		}
	})
}

func TestIdentifierLinkingTwoCustomersMergesThem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := customer.NewService(db, "US")
		byEmail := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("email", "bob@example.com")}, Traits: map[string]any{"name": "Bob"}})
		byPhone := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("phone", "+442079460000")}, Traits: map[string]any{"language": "en-GB"}})
		if byEmail.CustomerID == byPhone.CustomerID {
			t.Fatal("two unrelated identifiers made one customer")
		}
		// A contact carrying both shows they are one person; email outranks
		// phone, so the email's customer survives, and the phone that led to
		// the other customer is the recorded cause.
		res := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("phone", "+442079460000"), ident("email", "bob@example.com")}, Source: "test"})
		if res.CustomerID != byEmail.CustomerID || len(res.Merged) != 1 || res.Merged[0] != byPhone.CustomerID {
			t.Fatalf("resolution %+v: want survivor %v, merged %v", res, byEmail.CustomerID, byPhone.CustomerID)
		}
		c, err := s.Get(ctx, byPhone.CustomerID) // the merged id leads to the survivor
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != byEmail.CustomerID || c.Traits["language"] != "en-GB" || c.Name != "Bob" || len(c.Identifiers) != 2 {
			t.Fatalf("merged view %+v", c)
		}
		ms, err := s.Merges(ctx, c.ID)
		if err != nil || len(ms) != 1 {
			t.Fatalf("merges %v %v", ms, err)
		}
		m := ms[0]
		if m.Cause != "identifier" || m.Identifier == nil || m.Identifier.Kind != "phone" || m.SurvivorID != byEmail.CustomerID || m.MergedID != byPhone.CustomerID || m.Source != "test" {
			t.Fatalf("merge record %+v", m)
		}
		if n, _ := s.Count(ctx); n != 1 {
			t.Fatalf("count after merge %d, want 1", n)
		}

		// Undo: both come back as they were, and the pair is not merged again.
		if _, err := s.UndoMerge(ctx, m.ID, "tester"); err != nil {
			t.Fatal(err)
		}
		a, _ := s.Get(ctx, byEmail.CustomerID)
		b, _ := s.Get(ctx, byPhone.CustomerID)
		if a.ID == b.ID || len(a.Identifiers) != 1 || len(b.Identifiers) != 1 || b.Traits["language"] != "en-GB" || a.Traits["language"] != nil {
			t.Fatalf("after undo: %+v / %+v", a, b)
		}
		again := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("phone", "+442079460000"), ident("email", "bob@example.com")}})
		if len(again.Merged) != 0 || len(again.Refused) != 1 || again.Refused[0].Rule != "unmerged" {
			t.Fatalf("after undo the same evidence gave %+v; want a refusal by the unmerged rule", again)
		}
		if n, _ := s.Count(ctx); n != 2 {
			t.Fatalf("count after undo %d, want 2", n)
		}
		if _, err := s.UndoMerge(ctx, m.ID, "tester"); err == nil {
			t.Fatal("undoing twice must fail")
		}
	})
}

func TestGuardsAgainstFalseMerges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := customer.NewService(db, "US")
		// Two signed-in users share a family email: the second must not be glued to the first.
		u1 := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("user_id", "u1"), ident("email", "family@example.com")}})
		u2 := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("user_id", "u2"), ident("email", "family@example.com")}})
		if u1.CustomerID == u2.CustomerID {
			t.Fatal("a shared email merged two different user ids")
		}
		if len(u2.Refused) != 1 || u2.Refused[0].Rule != "limit:user_id" {
			t.Fatalf("refusal %+v, want limit:user_id", u2.Refused)
		}
		// The same refusal again is kept once.
		again := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("user_id", "u2"), ident("email", "family@example.com")}})
		if again.CustomerID != u2.CustomerID || len(again.Refused) != 1 {
			t.Fatalf("second contact of u2: %+v", again)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM identity_conflicts WHERE rule = ?", "limit:user_id"); n != 1 {
			t.Fatalf("%d conflicts recorded, want 1", n)
		}
		// A kiosk device used by many: each customer may hold only so many devices,
		// and a device already held is not followed into a second user id.
		for i := 0; i < identifier.Limit(identifier.DeviceID)+2; i++ {
			resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("user_id", "u1"), ident("device_id", fmt.Sprintf("dev-%d", i))}})
		}
		c, _ := s.Get(ctx, u1.CustomerID)
		devices := 0
		for _, i := range c.Identifiers {
			if i.Kind == identifier.DeviceID {
				devices++
			}
		}
		if devices != identifier.Limit(identifier.DeviceID) {
			t.Fatalf("customer holds %d devices, limit is %d", devices, identifier.Limit(identifier.DeviceID))
		}
		// Blocked junk values never become identifiers.
		ids, err := s.NormalizeAll("identifiers", []customer.RawIdentifier{{Kind: "email", Value: "null"}, {Kind: "anonymous_id", Value: "00000000-0000-0000-0000-000000000000"}, {Kind: "user_id", Value: "-1"}})
		if err != nil || len(ids) != 0 {
			t.Fatalf("blocked values gave %v, %v", ids, err)
		}
		// And a bad value names its place.
		if _, err := s.NormalizeAll("identifiers", []customer.RawIdentifier{{Kind: "email", Value: "a@example.com"}, {Kind: "phone", Value: "call me"}}); err == nil || err.Error()[:14] != "identifiers[1]" {
			t.Fatalf("bad phone: %v", err)
		}
	})
}

func TestAliasMergesPastLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := customer.NewService(db, "US")
		old := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("user_id", "old-id")}})
		cur := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("user_id", "new-id")}})
		prev := ident("user_id", "old-id")
		res := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident("user_id", "new-id")}, Alias: &prev})
		if res.CustomerID != cur.CustomerID || len(res.Merged) != 1 || res.Merged[0] != old.CustomerID {
			t.Fatalf("alias gave %+v", res)
		}
	})
}

func TestSearchByNameAndIdentifier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := customer.NewService(db, "DE")
		ann, _, err := s.Create(ctx, customer.Profile{Name: ptr("Ann-Marie Schröder"), Identifiers: []customer.RawIdentifier{{Kind: "phone", Value: "030 901820"}, {Kind: "loyalty_card", Value: "lc-7788 99"}}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = s.Create(ctx, customer.Profile{Name: ptr("Annabel Lee"), Identifiers: []customer.RawIdentifier{{Kind: "email", Value: "annabel@example.org"}}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			q    string
			want []string
		}{
			{"ann", []string{"Ann-Marie Schröder", "Annabel Lee"}},
			{"schrö ann", []string{"Ann-Marie Schröder"}},
			{"+49 30 901820", []string{"Ann-Marie Schröder"}},
			{"LC778899", []string{"Ann-Marie Schröder"}},
			{"ANNABEL@example.org", []string{"Annabel Lee"}},
			{"zed", nil},
		}
		for _, c := range cases {
			got, err := s.Search(ctx, c.q, 10)
			if err != nil {
				t.Fatalf("%q: %v", c.q, err)
			}
			var names []string
			for _, g := range got {
				names = append(names, g.Name)
			}
			if fmt.Sprint(sorted(names)) != fmt.Sprint(sorted(c.want)) {
				t.Errorf("search %q = %v, want %v", c.q, names, c.want)
			}
		}
		if ann.ID == 0 {
			t.Fatal("no id")
		}
	})
}

func TestManualMergeAndProfileUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := customer.NewService(db, "US")
		a, _, _ := s.Create(ctx, customer.Profile{Name: ptr("Carl"), Identifiers: []customer.RawIdentifier{{Kind: "user_id", Value: "c-1"}}}, "test")
		b, _, _ := s.Create(ctx, customer.Profile{Name: ptr("Carl B."), Identifiers: []customer.RawIdentifier{{Kind: "user_id", Value: "c-2"}}}, "test")
		m, err := s.MergeManually(ctx, a.ID, b.ID, "supervisor")
		if err != nil || m.Cause != "manual" || m.Actor != "supervisor" {
			t.Fatalf("manual merge %+v %v", m, err)
		}
		if _, err := s.MergeManually(ctx, a.ID, b.ID, "supervisor"); err == nil {
			t.Fatal("merging one customer with itself must fail")
		}
		when := time.Now()
		up, err := s.Update(ctx, b.ID, customer.Profile{
			Consent:     map[string]customer.Consent{"sms": {Status: "opted_out"}},
			Identifiers: []customer.RawIdentifier{{Kind: "email", Value: "carl@example.com"}},
		}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if up.ID != a.ID || up.Consent["sms"].Status != "opted_out" || up.Consent["sms"].UpdatedAt.Before(when.Add(-time.Second)) || len(up.Identifiers) != 3 {
			t.Fatalf("update through merged id: %+v", up)
		}
		if _, err := s.Update(ctx, a.ID, customer.Profile{Consent: map[string]customer.Consent{"pigeon": {Status: "opted_in"}}}, "t"); err == nil {
			t.Fatal("unknown consent channel accepted")
		}
		if _, err := s.Get(ctx, id.ID(12345)); err == nil {
			t.Fatal("unknown customer found")
		}
	})
}

func ptr[T any](v T) *T { return &v }

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestGroupMembershipsAddUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := customer.NewService(db, "US")
		ids := []identifier.Identifier{ident("user_id", "g-user")}
		resolve(t, db, s, customer.Evidence{Identifiers: ids, Traits: map[string]any{"groups": map[string]any{"acme": map[string]any{"plan": "pro"}}}})
		r := resolve(t, db, s, customer.Evidence{Identifiers: ids, Traits: map[string]any{"groups": map[string]any{"globex": map[string]any{}}}})
		c, err := s.Get(context.Background(), r.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		groups, _ := c.Traits["groups"].(map[string]any)
		if len(groups) != 2 || groups["acme"] == nil || groups["globex"] == nil {
			t.Fatalf("groups %v, want acme and globex", c.Traits["groups"])
		}
	})
}

// A customer created for a promised contact gets the promised id, unless a
// customer has that id already: then it gets a new one, and the holder of
// the id is left alone.
func TestResolveTakesThePromisedID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := customer.NewService(db, "US")
		promised := db.IDs.New()
		res := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident(identifier.AnonymousID, "a-1")}, Promised: promised})
		if !res.Created || res.CustomerID != promised {
			t.Fatalf("resolution %+v, want customer %s created", res, promised)
		}
		again := resolve(t, db, s, customer.Evidence{Identifiers: []identifier.Identifier{ident(identifier.AnonymousID, "a-2")}, Promised: promised})
		if !again.Created || again.CustomerID == promised || again.CustomerID == 0 {
			t.Fatalf("resolution %+v, want a new customer other than %s", again, promised)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM identifiers WHERE customer_id = ?", promised); n != 1 {
			t.Fatalf("the holder of the promised id has %d identifiers, want its own one", n)
		}
	})
}
