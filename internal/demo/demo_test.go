package demo

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// services builds the domain services the way app.Open does.
func services(db *store.DB) *app.Services {
	customers := customer.NewService(db, "US")
	interactions := interaction.NewService(db, customers)
	return &app.Services{
		DB:            db,
		Access:        access.NewService(db),
		ContactPoints: contactpoint.NewService(db),
		Customers:     customers,
		Interactions:  interactions,
		Cases:         cases.NewService(db, customers, interactions, nil, slog.New(slog.DiscardHandler)),
	}
}

var testNow = time.Date(2025, 5, 20, 15, 30, 0, 0, time.UTC)

func TestFill(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := services(db)
		opt := Options{Customers: 200, Seed: 7, Now: testNow}
		sum, err := Fill(ctx, s, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("filled: %d contact points, %d customers, %d interactions", sum.ContactPoints, sum.Customers, sum.Interactions)
		if sum.AlreadyFilled {
			t.Error("first Fill says AlreadyFilled")
		}
		if sum.ContactPoints != len(catalog) {
			t.Errorf("contact points = %d, want %d", sum.ContactPoints, len(catalog))
		}
		// Every synthetic person is one customer once the identifiers are
		// linked; Grace Whitman, of the hero case, is one more.
		if sum.Customers < 191 || sum.Customers > 201 {
			t.Errorf("customers = %d, want about 201", sum.Customers)
		}
		if per := float64(sum.Interactions) / 200; per < 12 || per > 30 {
			t.Errorf("interactions per customer = %.1f, want 12 to 30", per)
		}
		if len(sum.SignIns) != len(demoSignIns) {
			t.Errorf("sign-ins = %d, want %d", len(sum.SignIns), len(demoSignIns))
		}

		u, err := s.Access.SignIn(ctx, "admin@demo.example", "demo")
		if err != nil {
			t.Fatalf("admin cannot sign in: %v", err)
		}
		if u.Role != access.Admin || u.Name != "Ada Admin" {
			t.Errorf("admin = %+v", u)
		}
		for _, si := range sum.SignIns {
			if _, ok := access.ParseRole(si.Role); !ok {
				t.Errorf("sign-in %s has unknown role %q", si.Email, si.Role)
			}
		}

		checkCases(t, s, sum)
		desk := deskCounts(t, db)

		again, err := Fill(ctx, s, opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := deskCounts(t, db); got != desk {
			t.Errorf("second Fill changed the desk: %+v, then %+v", desk, got)
		}
		if !again.AlreadyFilled {
			t.Error("second Fill did not say AlreadyFilled")
		}
		if again.ContactPoints != sum.ContactPoints || again.Customers != sum.Customers || again.Interactions != sum.Interactions ||
			again.Cases != sum.Cases || again.OpenCases != sum.OpenCases {
			t.Errorf("second Fill changed the counts: %+v, then %+v", sum, again)
		}
		if len(again.SignIns) == 0 {
			t.Error("second Fill returned no sign-ins")
		}

		// Multi-channel timelines: customers seen on at least 3 contact points.
		var multi int
		err = db.QueryRow(ctx, `SELECT COUNT(*) FROM (
			SELECT c.root_id FROM interactions i JOIN customers c ON c.id = i.customer_id
			GROUP BY c.root_id HAVING COUNT(DISTINCT i.contact_point_id) >= 3) x`).Scan(&multi)
		if err != nil {
			t.Fatal(err)
		}
		if multi < 50 {
			t.Errorf("%d customers have a timeline over 3 or more contact points, want at least 50", multi)
		}
		// And one of them read through the timeline API.
		var someone id.ID
		if err := db.QueryRow(ctx, `SELECT c.root_id FROM interactions i JOIN customers c ON c.id = i.customer_id
			GROUP BY c.root_id ORDER BY COUNT(DISTINCT i.contact_point_id) DESC, c.root_id LIMIT 1`).Scan(&someone); err != nil {
			t.Fatal(err)
		}
		cust, err := s.Customers.Get(ctx, someone)
		if err != nil {
			t.Fatal(err)
		}
		page, err := s.Interactions.Timeline(ctx, cust.ID, interaction.TimelineQuery{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[any]bool{}
		for _, it := range page.Items {
			seen[*it.ContactPointID] = true
		}
		if len(seen) < 3 {
			t.Errorf("customer %s (%s): timeline spans %d contact points", cust.ID, cust.Name, len(seen))
		}
		if cust.Name == "" || cust.JourneyStage == "" || len(cust.Identifiers) < 2 {
			t.Errorf("customer %s: name %q, stage %q, identifiers %v", cust.ID, cust.Name, cust.JourneyStage, cust.Identifiers)
		}

		// The story: shipping questions grow from the first month to the last.
		start := testNow.AddDate(0, -6, 0)
		count := func(from, to time.Time) int {
			var n int
			err := db.QueryRow(ctx, `SELECT COUNT(*) FROM interactions WHERE reason IN ('shipping_charges', 'delivery_time')
				AND occurred_at >= ? AND occurred_at < ?`, from.UnixMicro(), to.UnixMicro()).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		first, last := count(start, start.AddDate(0, 1, 0)), count(testNow.AddDate(0, -1, 0), testNow)
		t.Logf("shipping questions: first month %d, last month %d", first, last)
		if last <= first {
			t.Errorf("shipping questions: first month %d, last month %d; want growth", first, last)
		}
		var withText int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM interactions WHERE reason = 'shipping_charges' AND kind = 'call'
			AND summary LIKE '%not shown on the website%'`).Scan(&withText); err != nil {
			t.Fatal(err)
		}
		if withText == 0 {
			t.Error("no shipping_charges call says that the charges are not shown on the website")
		}

		// Nothing lies outside the window, everything is demo data.
		var outside, other int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM interactions WHERE occurred_at < ? OR occurred_at >= ?",
			start.UnixMicro(), testNow.UnixMicro()).Scan(&outside); err != nil {
			t.Fatal(err)
		}
		// (But for Alex Morgan's answer to Grace, sent from the desk.)
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM interactions WHERE (source <> ? OR external_id IS NULL)
			AND NOT (source = 'desk' AND external_id LIKE 'reply:%:hero-reply')`, Source).Scan(&other); err != nil {
			t.Fatal(err)
		}
		if outside != 0 || other != 0 {
			t.Errorf("%d interactions outside the window, %d not from the demo", outside, other)
		}
	})
}

// TestFillResumes: a Fill that stopped before marking the store filled runs
// again without duplicating anything.
func TestFillResumes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := services(db)
		opt := Options{Customers: 60, Seed: 3, Now: testNow}
		first, err := Fill(ctx, s, opt)
		if err != nil {
			t.Fatal(err)
		}
		desk := deskCounts(t, db)
		// As if it had stopped before either mark was written.
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, "DELETE FROM settings WHERE key IN (?, ?)", FilledKey, CasesKey)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		// A later "today": the same stories, found again by their external ids.
		opt.Now = testNow.Add(90 * time.Minute)
		second, err := Fill(ctx, s, opt)
		if err != nil {
			t.Fatal(err)
		}
		if second.AlreadyFilled {
			t.Fatal("resumed Fill says AlreadyFilled")
		}
		if second.ContactPoints != first.ContactPoints || second.Customers != first.Customers {
			t.Errorf("resumed Fill changed counts: %+v, then %+v", first, second)
		}
		// Only contacts in the extra 90 minutes may be new.
		if second.Interactions < first.Interactions || second.Interactions > first.Interactions+first.Interactions/50 {
			t.Errorf("interactions: %d, then %d after resuming", first.Interactions, second.Interactions)
		}
		users, err := s.Access.ListUsers(ctx)
		if err != nil || len(users) != len(demoSignIns) {
			t.Errorf("users after resuming: %d, %v", len(users), err)
		}
		// The desk and the work on the cases are found again, not made twice.
		if after := deskCounts(t, db); after != desk {
			t.Errorf("resumed Fill changed the desk: %+v, then %+v", desk, after)
		}
		if second.Cases < first.Cases || second.Cases > first.Cases+3 {
			t.Errorf("cases: %d, then %d after resuming", first.Cases, second.Cases)
		}
	})
}

// deskSize counts what Fill sets up around the cases.
type deskSize struct {
	Reasons, Teams, Members, Calendars, Policies, Canned, Notes, Replies int
}

func deskCounts(t *testing.T, db *store.DB) deskSize {
	t.Helper()
	var d deskSize
	for _, c := range []struct {
		table string
		n     *int
	}{
		{"contact_reasons", &d.Reasons}, {"teams", &d.Teams}, {"team_members", &d.Members}, {"business_calendars", &d.Calendars},
		{"sla_policies", &d.Policies}, {"canned_responses", &d.Canned}, {"case_notes", &d.Notes},
	} {
		if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+c.table).Scan(c.n); err != nil {
			t.Fatalf("counting %s: %v", c.table, err)
		}
	}
	err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM interactions WHERE case_id IS NOT NULL AND direction = 'outbound'").Scan(&d.Replies)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkCases: the desk an agent signs in to after Fill.
func checkCases(t *testing.T, s *app.Services, sum *Summary) {
	t.Helper()
	ctx := context.Background()
	db := s.DB
	t.Logf("cases: %d, %d open", sum.Cases, sum.OpenCases)
	if sum.Cases < 50 || sum.OpenCases < 5 || sum.OpenCases >= sum.Cases/2 {
		t.Errorf("cases = %d, open = %d; want many cases, most of them resolved or closed", sum.Cases, sum.OpenCases)
	}

	// Every reason on an interaction is in the taxonomy, with a name.
	taxonomy, err := s.Cases.Reasons(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, r := range taxonomy {
		named[r.Code] = r.Name != ""
	}
	for code := range reasons {
		if !named[code] {
			t.Errorf("contact reason %s is not in the taxonomy", code)
		}
	}
	var unknown int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM interactions WHERE reason <> ''
		AND reason NOT IN (SELECT code FROM contact_reasons)`).Scan(&unknown); err != nil {
		t.Fatal(err)
	}
	if unknown > 0 {
		t.Errorf("%d interactions carry a reason the taxonomy does not know", unknown)
	}
	var reasonless int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM cases WHERE reason = ''").Scan(&reasonless); err != nil {
		t.Fatal(err)
	}
	if reasonless > 0 {
		t.Errorf("%d cases without a reason", reasonless)
	}

	// Teams with members, business hours, SLA policies, canned responses.
	teams, err := s.Access.ListTeams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(teams) != len(teamDefs) {
		t.Errorf("teams = %d, want %d", len(teams), len(teamDefs))
	}
	for _, tm := range teams {
		if len(tm.Members) == 0 {
			t.Errorf("team %s has no members", tm.Name)
		}
	}
	pols, err := s.Cases.Policies(ctx)
	if err != nil || len(pols) != len(policyDefs) {
		t.Errorf("SLA policies = %d, %v; want %d", len(pols), err, len(policyDefs))
	}
	for _, p := range pols {
		if p.CalendarID == nil {
			t.Errorf("SLA policy %s counts around the clock", p.Name)
		}
	}
	canned, err := s.Cases.CannedResponses(ctx)
	if err != nil || len(canned) != len(cannedDefs) {
		t.Errorf("canned responses = %d, %v; want %d", len(canned), err, len(cannedDefs))
	}

	// Open cases in several statuses, priorities and SLA states; old ones resolved or closed.
	count := func(q string, args ...any) map[string]int {
		rows, err := db.Query(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]int{}
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				t.Fatal(err)
			}
			m[k] = n
		}
		return m
	}
	statuses := count("SELECT status, COUNT(*) FROM cases GROUP BY status")
	sla := count(`SELECT sla_state, COUNT(*) FROM cases WHERE status IN ('new', 'open', 'waiting_on_customer', 'waiting_on_us') GROUP BY sla_state`)
	priorities := count(`SELECT priority, COUNT(*) FROM cases WHERE status IN ('new', 'open', 'waiting_on_customer', 'waiting_on_us') GROUP BY priority`)
	t.Logf("statuses %v; open cases by SLA state %v, by priority %v", statuses, sla, priorities)
	openKinds := 0
	for _, st := range cases.OpenStatuses {
		if statuses[st] > 0 {
			openKinds++
		}
	}
	if openKinds < 3 || statuses[cases.Resolved] == 0 || statuses[cases.Closed] == 0 || statuses[cases.Resolved] < statuses[cases.Closed] {
		t.Errorf("statuses %v: want open cases in at least 3 statuses, and more resolved than closed", statuses)
	}
	if len(priorities) < 3 {
		t.Errorf("open cases by priority %v: want at least 3 priorities", priorities)
	}
	var stale, unresolved, owned, unowned int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE status IN ('new', 'open', 'waiting_on_customer', 'waiting_on_us')
		AND updated_at < ?`, testNow.Add(-recentCase).UnixMicro()).Scan(&stale); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE status IN ('resolved', 'closed') AND (resolution = '' OR resolved_at IS NULL)`).Scan(&unresolved); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `SELECT COALESCE(SUM(CASE WHEN owner_id IS NULL THEN 0 ELSE 1 END), 0), COALESCE(SUM(CASE WHEN owner_id IS NULL THEN 1 ELSE 0 END), 0)
		FROM cases WHERE status IN ('new', 'open', 'waiting_on_customer', 'waiting_on_us')`).Scan(&owned, &unowned); err != nil {
		t.Fatal(err)
	}
	if stale > 0 || unresolved > 0 {
		t.Errorf("%d open cases untouched for over %s; %d resolved cases without resolution", stale, recentCase, unresolved)
	}
	if owned == 0 || sum.OpenCases >= 20 && unowned == 0 {
		t.Errorf("open cases: %d assigned, %d unassigned; want both", owned, unowned)
	}
	// Nothing the desk did lies after "now" of the story.
	var future int
	if err := db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM cases WHERE id <> ? AND (created_at > ? OR updated_at > ? OR resolved_at > ?))
		+ (SELECT COUNT(*) FROM case_notes WHERE created_at > ?)`, heroCaseOf(t, s), testNow.UnixMicro(), testNow.UnixMicro(),
		testNow.UnixMicro(), testNow.UnixMicro()).Scan(&future); err != nil {
		t.Fatal(err)
	}
	if future > 0 {
		t.Errorf("%d cases or notes dated after now", future)
	}

	// The first case of the inbox is Grace's: open, hers, on five kinds of contact point.
	page, err := s.Cases.Inbox(ctx, cases.InboxQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) == 0 {
		t.Fatal("the inbox is empty")
	}
	first := page.Items[0]
	if !cases.IsOpen(first.Status) || first.CustomerName != heroName || first.OwnerName != "Alex Morgan" || first.TeamName != teamSupport {
		t.Errorf("first case in the inbox: %q, %s, customer %q, owner %q, team %q", first.Subject, first.Status,
			first.CustomerName, first.OwnerName, first.TeamName)
	}
	if first.Reason != heroReason || first.FirstResponseAt == nil || len(first.Tags) == 0 {
		t.Errorf("first case: reason %q, first response %v, tags %v", first.Reason, first.FirstResponseAt, first.Tags)
	}
	rows, err := db.Query(ctx, `SELECT cp.kind, i.kind, i.direction FROM interactions i JOIN contact_points cp ON cp.id = i.contact_point_id
		WHERE i.case_id = ? ORDER BY i.occurred_at`, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	var story []string
	for rows.Next() {
		var cpKind, kind, dir string
		if err := rows.Scan(&cpKind, &kind, &dir); err != nil {
			t.Fatal(err)
		}
		kinds[cpKind] = true
		story = append(story, cpKind+"/"+kind+"/"+dir)
	}
	rows.Close()
	t.Logf("first case %q: %v", first.Subject, story)
	for _, k := range []string{"phone", "email", "web_chat", "store", "kiosk"} {
		if !kinds[k] {
			t.Errorf("the first case has no interaction on a %s contact point: %v", k, story)
		}
	}
	if len(kinds) < 5 || !slices.Contains(story, "email/email/outbound") {
		t.Errorf("the first case: %v; want 5 kinds of contact point and an answer by email", story)
	}
	notes, err := s.Cases.Notes(ctx, first.ID)
	if err != nil || len(notes) < 2 {
		t.Errorf("notes on the first case: %d, %v", len(notes), err)
	}
	for _, n := range notes {
		if n.CreatedAt.After(testNow) || n.AuthorName == "" {
			t.Errorf("note by %q at %s", n.AuthorName, n.CreatedAt)
		}
	}
	// The agent who signs in has more than Grace's case in "mine".
	var agent id.ID
	if err := db.QueryRow(ctx, "SELECT id FROM users WHERE email = ?", heroAgent).Scan(&agent); err != nil {
		t.Fatal(err)
	}
	mine, err := s.Cases.Inbox(ctx, cases.InboxQuery{View: cases.ViewMine, UserID: agent})
	if err != nil {
		t.Fatal(err)
	}
	if len(mine.Items) < 2 || mine.Items[0].ID != first.ID {
		t.Errorf("the demo agent's own open cases: %d, first %v", len(mine.Items), mine.Items)
	}
}

func heroCaseOf(t *testing.T, s *app.Services) id.ID {
	t.Helper()
	c, err := heroCase(context.Background(), s)
	if err != nil || c == 0 {
		t.Fatalf("hero case: %v, %v", c, err)
	}
	return c
}

// TestFillChunked: large fills go chunk by chunk and tell the same stories.
func TestFillChunked(t *testing.T) {
	ctx := context.Background()
	opt := Options{Customers: 120, Seed: 11, Now: testNow}
	whole, err := Fill(ctx, services(storetest.SQLite(t)), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer func(n int) { chunkCustomers = n }(chunkCustomers)
	chunkCustomers = 50
	chunked, err := Fill(ctx, services(storetest.SQLite(t)), opt)
	if err != nil {
		t.Fatal(err)
	}
	if whole.Customers != chunked.Customers || whole.Interactions != chunked.Interactions {
		t.Errorf("in one go: %d customers, %d interactions; in chunks: %d, %d",
			whole.Customers, whole.Interactions, chunked.Customers, chunked.Interactions)
	}
}

func TestGenerator(t *testing.T) {
	ids := make([]id.ID, numContactPoints)
	for i := range ids {
		ids[i] = id.ID(1000 + i)
	}
	a := NewGenerator(42, 5000, testNow, ids)
	b := NewGenerator(42, 5000, testNow, ids)
	x1, x2 := a.Next(700), a.Next(700)
	y := b.Next(1400)
	if len(x1) != 700 || len(x2) != 700 || len(y) != 1400 {
		t.Fatalf("lengths %d %d %d", len(x1), len(x2), len(y))
	}
	if !reflect.DeepEqual(append(x1, x2...), y) {
		t.Error("the same seed gave different data")
	}
	c := NewGenerator(43, 5000, testNow, ids).Next(50)
	if reflect.DeepEqual(c, y[:50]) {
		t.Error("another seed gave the same data")
	}

	g := NewGenerator(1, 100000, testNow, ids)
	seen := map[string]bool{}
	kinds := map[string]map[string]bool{}
	norm := identifier.Normalizer{DefaultRegion: "US"}
	for range 20 {
		for _, in := range g.Next(1000) {
			key := in.Source + "\x00" + in.ExternalID
			if in.Source != Source || in.ExternalID == "" || seen[key] {
				t.Fatalf("source %q external id %q: empty or seen before", in.Source, in.ExternalID)
			}
			seen[key] = true
			if in.OccurredAt.Before(testNow.AddDate(0, -6, 0)) || !in.OccurredAt.Before(testNow) {
				t.Errorf("%s: occurred at %s, outside the window", in.ExternalID, in.OccurredAt)
			}
			if len(in.Identifiers) == 0 {
				t.Errorf("%s: no identifiers", in.ExternalID)
			}
			for _, raw := range in.Identifiers {
				if _, err := norm.Normalize(raw.Kind, raw.Value); err != nil {
					t.Errorf("%s: identifier %v: %v", in.ExternalID, raw, err)
				}
			}
			cpKind := string(catalog[int(in.ContactPointID)-1000].kind)
			if kinds[cpKind] == nil {
				kinds[cpKind] = map[string]bool{}
			}
			kinds[cpKind][in.Kind] = true
		}
	}
	// Kinds fit the contact point.
	want := map[string]string{"phone": "call", "website": "page_view", "store": "purchase", "delivery": "delivery",
		"advertising": "ad_exposure", "review_site": "review", "billing": "bill", "kiosk": "kiosk_session"}
	for cpKind, k := range want {
		if !kinds[cpKind][k] {
			t.Errorf("no %s interactions on %s contact points; got %v", k, cpKind, kinds[cpKind])
		}
	}
	for _, k := range []string{"page_view", "ad_exposure", "bill"} {
		if kinds["phone"][k] {
			t.Errorf("a %s on a phone line", k)
		}
	}
}

func TestGeneratorWithKinds(t *testing.T) {
	kinds := []contactpoint.Kind{"website", "phone", "store", "email", "mobile_app", "api"}
	ids := []id.ID{1, 2, 3, 4, 5, 6}
	g := NewGenerator(9, 1000, testNow, ids).WithKinds(kinds)
	got := map[id.ID]map[string]bool{}
	for _, in := range g.Next(3000) {
		if got[in.ContactPointID] == nil {
			got[in.ContactPointID] = map[string]bool{}
		}
		got[in.ContactPointID][in.Kind] = true
	}
	allowed := map[id.ID][]string{
		1: {"page_view", "purchase"}, 2: {"call"}, 3: {"visit", "purchase"}, 4: {"email"},
		5: {"screen_view", "purchase"}, 6: {"page_view", "purchase"},
	}
	for cp, ks := range got {
		for k := range ks {
			if !slices.Contains(allowed[cp], k) {
				t.Errorf("contact point %d (%s): interaction kind %s", cp, kinds[cp-1], k)
			}
		}
	}
}

// TestGeneratorRecords: what the generator yields is accepted by Record.
func TestGeneratorRecords(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	s := services(db)
	cps, err := CreateContactPoints(ctx, s.ContactPoints)
	if err != nil {
		t.Fatal(err)
	}
	again, err := CreateContactPoints(ctx, s.ContactPoints)
	if err != nil || !reflect.DeepEqual(cps, again) {
		t.Fatalf("CreateContactPoints again: %v, %v vs %v", err, again, cps)
	}
	g := NewGenerator(5, 300, time.Now(), cps)
	for range 3 {
		if _, err := s.Interactions.Record(ctx, g.Next(1000)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Interactions.Count(ctx)
	if err != nil || n != 3000 {
		t.Fatalf("count = %d, %v", n, err)
	}
	// The same seed again: all duplicates.
	res, err := s.Interactions.Record(ctx, NewGenerator(5, 300, time.Now(), cps).Next(1000))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Duplicate {
			t.Fatal("a repeated generator input was stored again")
		}
	}
}

// TestPhoneNumbers: every number the demo hands out is a possible number that
// normalizes to itself, and customers' numbers are unique.
func TestPhoneNumbers(t *testing.T) {
	norm := identifier.Normalizer{DefaultRegion: "US"}
	for _, n := range []string{phoneLineUS, phoneLineUK, phoneLineDE, phoneSMS, phoneWhatsApp} {
		if _, err := norm.Normalize("phone", n); err != nil {
			t.Errorf("company number %s: %v", n, err)
		}
	}
	for _, c := range countries {
		seen := map[string]bool{}
		for n := range 3000 {
			raw := c.phoneNumber(n)
			got, err := norm.Normalize("phone", raw)
			if err != nil {
				t.Fatalf("%s customer %d: %s: %v", c.code, n, raw, err)
			}
			if seen[got.Value] {
				t.Errorf("%s customer %d: %s given twice", c.code, n, got.Value)
			}
			seen[got.Value] = true
		}
		// Beyond the fictional blocks, for large benchmark pools.
		for _, n := range []int{3000, 4000, 11199, 11200, 50000, 999999, 5000000} {
			raw := c.phoneNumber(n)
			got, err := norm.Normalize("phone", raw)
			if err != nil {
				t.Errorf("%s customer %d: %s: %v", c.code, n, raw, err)
				continue
			}
			if seen[got.Value] {
				t.Errorf("%s customer %d: %s given twice", c.code, n, got.Value)
			}
			seen[got.Value] = true
		}
	}
}

func TestCatalog(t *testing.T) {
	for i, d := range catalog {
		if int(d.key) != i {
			t.Errorf("catalog[%d] has key %d", i, d.key)
		}
	}
	seen := map[contactpoint.Kind]bool{}
	for _, d := range catalog {
		seen[d.kind] = true
	}
	for _, k := range contactpoint.Kinds {
		if !seen[k] && k != "api" {
			t.Errorf("no contact point of kind %s", k)
		}
	}
}

// BenchmarkFill measures Fill with the default 2000 customers on a fresh
// store: go test ./internal/demo/ -run XXX -bench Fill -benchtime 3x
func BenchmarkFill(b *testing.B) {
	dbs := map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite, "postgres": storetest.Postgres}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var log *slog.Logger
			if testing.Verbose() {
				log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			for b.Loop() {
				b.StopTimer()
				db := dbs[name](b)
				b.StartTimer()
				cpu0 := cpuTime()
				sum, err := Fill(context.Background(), services(db), Options{Log: log})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric((cpuTime() - cpu0).Seconds(), "cpu-s/op")
				b.ReportMetric(float64(sum.Interactions), "interactions")
				b.ReportMetric(float64(sum.Customers), "customers")
			}
		})
	}
}

func BenchmarkStories(b *testing.B) {
	w := newWorld(make([]id.ID, numContactPoints), testNow, 6)
	for b.Loop() {
		writeStories(w, 1, 0, 2000)
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Arrivals keeps contacts coming in after the demo is filled: from known
// customers, on conversational channels, onto cases.
func TestArrivals(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	s := app.NewServices(db, "US")
	if _, err := Fill(ctx, s, Options{Customers: 60, Now: time.Now(), Months: 1}); err != nil {
		t.Fatal(err)
	}
	var before int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM customers").Scan(&before); err != nil {
		t.Fatal(err)
	}
	sub := s.Bus.Subscribe("inbox")
	defer sub.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { Arrivals(runCtx, s, 20*time.Millisecond, 60, slog.New(slog.DiscardHandler)); close(done) }()
	deadline := time.After(10 * time.Second)
	heard := 0
	for heard < 5 {
		select {
		case e := <-sub.C():
			if e.Type == "interaction.created" {
				heard++
			}
		case <-deadline:
			t.Fatalf("only %d live contacts were announced in 10 s", heard)
		}
	}
	stop()
	<-done
	rows, err := db.Query(ctx, "SELECT kind, direction, case_id, staff_name, outcome FROM interactions WHERE source = ?", ArrivalsSource)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n, onCase := 0, 0
	for rows.Next() {
		var kind, dir, staff, outcome string
		var caseID sql.NullInt64
		if err := rows.Scan(&kind, &dir, &caseID, &staff, &outcome); err != nil {
			t.Fatal(err)
		}
		n++
		if dir != interaction.Inbound || staff != "" || outcome != "" {
			t.Fatalf("a live arrival %s %s staff %q outcome %q: want an inbound contact nobody has served yet", kind, dir, staff, outcome)
		}
		if caseID.Valid {
			onCase++
		}
	}
	if n < 5 || onCase == 0 {
		t.Fatalf("%d live arrivals, %d on cases", n, onCase)
	}
	// Live contacts of routed channels wait in the demo's queues.
	items, err := s.Routing.ListItems(ctx, routing.ItemQuery{State: routing.StateWaiting})
	if err != nil {
		t.Fatal(err)
	}
	queued := 0
	for _, it := range items {
		if it.InteractionID != 0 && it.CaseID != 0 {
			queued++
		}
	}
	if queued == 0 {
		t.Fatalf("none of %d live arrivals waits in a queue (%d items)", n, len(items))
	}
	var after int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM customers").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("live arrivals made %d new customers; they should come from the demo's own", after-before)
	}
}
