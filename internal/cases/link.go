package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/richtext"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// JoinRule decides which open case a new inbound contact joins.
type JoinRule struct {
	// WindowHours: an open case joins only if it changed within this many
	// hours before the contact (default 336, two weeks).
	WindowHours int `json:"window_hours"`
	// SameReason: when both the contact and the case have a reason, they
	// must be the same (default true). A contact without a reason joins the
	// most recently active open case.
	SameReason bool `json:"same_reason"`
}

// DefaultJoinRule is the rule until an administrator sets another.
var DefaultJoinRule = JoinRule{WindowHours: 14 * 24, SameReason: true}

const joinRuleKey = "cases.join_rule"

// JoinRule returns the rule in force.
func (s *Service) JoinRule(ctx context.Context) (JoinRule, error) {
	return loadJoinRule(ctx, s.db)
}

func loadJoinRule(ctx context.Context, q querier) (JoinRule, error) {
	var v string
	err := q.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", joinRuleKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultJoinRule, nil
	}
	if err != nil {
		return JoinRule{}, err
	}
	r := DefaultJoinRule
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return DefaultJoinRule, nil
	}
	return r, nil
}

// SetJoinRule stores the rule.
func (s *Service) SetJoinRule(ctx context.Context, r JoinRule) error {
	if r.WindowHours < 1 || r.WindowHours > 24*365 {
		return errs.Invalidf("window_hours", "must be between 1 and 8760")
	}
	b, _ := json.Marshal(r)
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", joinRuleKey, string(b))
		return err
	})
	s.forgetPolicies()
	return err
}

// OpensCasesByDefault tells whether inbound contacts on a contact point of
// this kind open a case when the customer has none open. Kinds that carry
// conversations do; web analytics, advertising and word of mouth do not. A
// contact point's settings may say otherwise ("opens_cases": true/false).
func OpensCasesByDefault(kind string) bool {
	switch kind {
	case "website", "mobile_app", "advertising", "word_of_mouth", "api":
		return false
	}
	return true
}

// contactPoint returns what linking needs of a contact point, cached.
func (s *Service) contactPoint(ctx context.Context, q querier, cpID id.ID) (cpInfo, error) {
	s.mu.Lock()
	if s.cpInfos == nil || s.now().Sub(s.cpLoaded) > rulesTTL {
		s.cpInfos, s.cpLoaded = map[id.ID]cpInfo{}, s.now()
	}
	info, ok := s.cpInfos[cpID]
	s.mu.Unlock()
	if ok {
		return info, nil
	}
	var settings string
	err := q.QueryRow(ctx, "SELECT kind, name, settings FROM contact_points WHERE id = ?", cpID).Scan(&info.kind, &info.name, &settings)
	if errors.Is(err, sql.ErrNoRows) {
		return info, errs.Invalidf("contact_point_id", "no contact point %s", cpID)
	}
	if err != nil {
		return info, err
	}
	info.opens = OpensCasesByDefault(info.kind)
	var set struct {
		OpensCases *bool `json:"opens_cases"`
	}
	if json.Unmarshal([]byte(settings), &set) == nil && set.OpensCases != nil {
		info.opens = *set.OpensCases
	}
	s.mu.Lock()
	s.cpInfos[cpID] = info
	s.mu.Unlock()
	return info, nil
}

// ForgetContactPoints drops the cached contact point settings (after an
// administrator changed one).
func (s *Service) ForgetContactPoints() {
	s.mu.Lock()
	s.cpInfos = nil
	s.mu.Unlock()
}

// settled tells whether a contact's outcome says it needs nothing more: a
// store visit that ended in a sale joins an open case if there is one, but
// does not open a new one.
func settled(outcome string) bool {
	switch outcome {
	case "resolved", "sale", "no_sale", "completed", "paid", "payment_promised", "answered", "informed", "delivered", "repaired":
		return true
	}
	return false
}

// isStaffReply tells whether an outbound interaction answers the customer
// (and so is the case's first or next response).
func isStaffReply(in *interaction.Input) bool {
	return in.Direction == interaction.Outbound && (in.StaffID != nil || in.StaffName != "")
}

type openCase struct {
	c    *Case
	root id.ID
}

// LinkCases puts stored interactions on cases (interaction.CaseLinker): an
// interaction that names its case joins it; an inbound contact joins its
// customer's open case by the join rule, or opens one when its contact
// point opens cases. Passive touches (page views, ads, bills) stay off cases.
func (s *Service) LinkCases(ctx context.Context, tx *store.Tx, stored []interaction.Recorded) error {
	var auto []int
	explicit := map[id.ID][]int{}
	for i := range stored {
		in := stored[i].In
		switch {
		case stored[i].CaseID != 0:
			explicit[stored[i].CaseID] = append(explicit[stored[i].CaseID], i)
		case in.Direction == interaction.Inbound && !in.NoCase:
			auto = append(auto, i)
		}
	}
	if len(auto) == 0 && len(explicit) == 0 {
		return nil
	}
	now := s.now().UTC()
	touched := map[id.ID]*Case{}
	for caseID, idx := range explicit {
		c, err := lockCase(ctx, tx, caseID)
		if errors.Is(err, errs.ErrNotFound) {
			return errs.Invalidf("case_id", "no case %s", caseID)
		}
		if err != nil {
			return err
		}
		// A merged case hands its contacts on to the case it was merged
		// into (which may itself have been merged since).
		for hops := 0; c.MergedInto != nil && hops < 20; hops++ {
			c, err = lockCase(ctx, tx, *c.MergedInto)
			if err != nil {
				return err
			}
			for _, i := range idx {
				stored[i].CaseID = c.ID
			}
		}
		// A case holds the contacts of one customer (group).
		for _, i := range idx {
			same, err := sameCustomer(ctx, tx, c.CustomerID, stored[i].CustomerID)
			if err != nil {
				return err
			}
			if !same {
				return errs.Invalidf("case_id", "case %s is about another customer", caseID)
			}
		}
		touched[c.ID] = c
	}
	if len(auto) > 0 {
		rule, err := loadJoinRule(ctx, tx)
		if err != nil {
			return err
		}
		// A later contact of the same batch may have merged customers: join
		// by the groups as they are now, not as they were when each contact
		// was resolved.
		if err := currentRoots(ctx, tx, stored, auto); err != nil {
			return err
		}
		open, err := s.openCasesOf(ctx, tx, stored, auto)
		if err != nil {
			return err
		}
		for _, i := range auto {
			r := &stored[i]
			c := pickCase(open[r.CustomerID], r.In, rule)
			if c == nil {
				if r.In.ContactPointID == 0 || settled(r.In.Outcome) || !opensCases(r.In.Kind) {
					continue
				}
				info, err := s.contactPoint(ctx, tx, r.In.ContactPointID)
				if err != nil {
					return err
				}
				if !info.opens {
					continue
				}
				cp := r.In.ContactPointID
				c, err = s.createTx(ctx, tx, System, NewCase{
					CustomerID: r.CustomerID, Subject: subjectFor(r.In, info), Reason: validReasonOrEmpty(ctx, tx, s, r.In.Reason),
					ContactPointID: &cp,
				}, now)
				if err != nil {
					return fmt.Errorf("opening a case for a new contact: %w", err)
				}
				r.CaseOpened = true
				open[r.CustomerID] = append(open[r.CustomerID], c)
			}
			r.CaseID = c.ID
			touched[c.ID] = c
		}
	}
	// Link and move each case's clocks and counters once.
	byCase := map[id.ID][]*interaction.Recorded{}
	for i := range stored {
		if stored[i].CaseID != 0 {
			byCase[stored[i].CaseID] = append(byCase[stored[i].CaseID], &stored[i])
		}
	}
	r, err := s.rules(ctx, tx)
	if err != nil {
		return err
	}
	for caseID, recs := range byCase {
		c := touched[caseID]
		ids := make([]any, 0, len(recs)+1)
		ids = append(ids, caseID)
		for _, rec := range recs {
			ids = append(ids, rec.ID)
		}
		if _, err := tx.Exec(ctx, "UPDATE interactions SET case_id = ? WHERE id IN ("+store.Placeholders(len(recs))+")", ids...); err != nil {
			return fmt.Errorf("linking interactions to case %s: %w", caseID, err)
		}
		if err := s.absorb(ctx, tx, c, recs, r, now); err != nil {
			return err
		}
	}
	return nil
}

// absorb updates a case for interactions that just joined it: counters,
// last contact times, the status a customer's reply brings, and the clocks.
func (s *Service) absorb(ctx context.Context, tx *store.Tx, c *Case, recs []*interaction.Recorded, r *slaRules, now time.Time) error {
	p, cal := r.policy(c.SLA.PolicyID)
	before := shapeOf(c)
	slices.SortFunc(recs, func(a, b *interaction.Recorded) int { return a.In.OccurredAt.Compare(b.In.OccurredAt) })
	for _, rec := range recs {
		in := rec.In
		at := in.OccurredAt.UTC()
		switch {
		case in.Direction == interaction.Inbound:
			if c.LastInboundAt == nil || at.After(*c.LastInboundAt) {
				c.LastInboundAt = &at
			}
			if c.Status == WaitingCustomer || (!IsOpen(c.Status) && c.Status != Closed) {
				from := c.Status
				c.Status = Open
				if c.SLA.PausedAt != nil {
					resumeClocks(c, cal, now)
				}
				kind := "status"
				if !IsOpen(from) {
					// Reopened (as by hand): no longer resolved, and a fresh
					// resolution target from now.
					kind = "reopened"
					c.ResolvedAt = nil
					if p != nil && p.Resolution > 0 {
						t := cal.Add(now, p.Resolution.Duration())
						c.SLA.ResolutionDue = &t
					}
				}
				if err := event(ctx, tx, c.ID, now, System, kind, map[string]any{"from": from, "to": Open, "because": "the customer wrote"}); err != nil {
					return err
				}
			}
			if p != nil && p.NextResponse > 0 && c.FirstResponseAt != nil && (c.LastOutboundAt == nil || c.LastOutboundAt.Before(at)) && c.SLA.NextResponseDue == nil {
				t := cal.Add(at, p.NextResponse.Duration())
				c.SLA.NextResponseDue = &t
			}
		case isStaffReply(in):
			if c.LastOutboundAt == nil || at.After(*c.LastOutboundAt) {
				c.LastOutboundAt = &at
			}
			// A late reply is a breach even if the clock job had not seen it yet.
			if _, err := s.applyClock(ctx, tx, c, p, cal, at); err != nil {
				return err
			}
			if c.FirstResponseAt == nil {
				c.FirstResponseAt = &at
				c.SLA.FirstResponseDue = nil
			}
			c.SLA.NextResponseDue = nil
		case in.Direction == interaction.Outbound:
			if c.LastOutboundAt == nil || at.After(*c.LastOutboundAt) {
				c.LastOutboundAt = &at
			}
		}
		detail := map[string]any{"interaction_id": rec.ID, "kind": in.Kind, "direction": in.Direction}
		if rec.CaseOpened {
			detail["opened_case"] = true
		}
		if err := event(ctx, tx, c.ID, now, System, "interaction_linked", detail); err != nil {
			return err
		}
	}
	if _, err := s.applyClock(ctx, tx, c, p, cal, now); err != nil {
		return err
	}
	c.InteractionCount += len(recs)
	c.Version++
	c.UpdatedAt = now
	_, err := tx.Exec(ctx, `UPDATE cases SET status = ?, is_open = ?, interaction_count = ?, last_inbound_at = ?, last_outbound_at = ?,
		first_response_at = ?, resolved_at = ?, updated_at = ?, version = ? WHERE id = ?`,
		c.Status, openFlag(c.Status), c.InteractionCount, nullTime(c.LastInboundAt), nullTime(c.LastOutboundAt), nullTime(c.FirstResponseAt),
		nullTime(c.ResolvedAt), now.UnixMicro(), c.Version, c.ID)
	if err != nil {
		return fmt.Errorf("updating case %s: %w", c.ID, err)
	}
	return count(ctx, tx, before, shapeOf(c))
}

// openCasesOf reads the open cases of the customers of the auto-linked
// interactions, keyed by customer root, most recently active first.
func (s *Service) openCasesOf(ctx context.Context, tx *store.Tx, stored []interaction.Recorded, auto []int) (map[id.ID][]*Case, error) {
	roots := []any{}
	seen := map[id.ID]bool{}
	for _, i := range auto {
		if r := stored[i].CustomerID; !seen[r] {
			seen[r] = true
			roots = append(roots, r)
		}
	}
	if tx.Dialect() == store.Postgres {
		// Two contacts of one customer recorded at once must not both find
		// no open case and each open one: hold the customer while choosing.
		// (Row locks on the open cases cannot do it when there are none.)
		// In id order, so that two batches cannot lock in opposite orders;
		// NO KEY, so as not to wait for the key-share locks that inserting
		// the interactions (foreign keys to the customer) took.
		if _, err := tx.Exec(ctx, "SELECT id FROM customers WHERE id IN ("+store.Placeholders(len(roots))+") ORDER BY id FOR NO KEY UPDATE", roots...); err != nil {
			return nil, fmt.Errorf("locking customers: %w", err)
		}
	}
	q := "SELECT m.root_id, " + caseColumns + ` FROM cases c JOIN customers m ON m.id = c.customer_id
		WHERE m.root_id IN (` + store.Placeholders(len(roots)) + `) AND c.status IN ('new', 'open', 'waiting_on_customer', 'waiting_on_us')
		AND c.merged_into IS NULL ORDER BY c.updated_at DESC`
	if tx.Dialect() == store.Postgres {
		q += " FOR UPDATE OF c"
	}
	rows, err := tx.Query(ctx, q, roots...)
	if err != nil {
		return nil, fmt.Errorf("reading open cases: %w", err)
	}
	defer rows.Close()
	out := map[id.ID][]*Case{}
	for rows.Next() {
		var root id.ID
		c, err := scanCase(prefixScanner{rows, &root})
		if err != nil {
			return nil, err
		}
		out[root] = append(out[root], c)
	}
	return out, rows.Err()
}

// sameCustomer tells whether two customers are one (the same merge group).
func sameCustomer(ctx context.Context, tx *store.Tx, a, b id.ID) (bool, error) {
	if a == b {
		return true, nil
	}
	var n int
	err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM customers x JOIN customers y ON y.root_id = x.root_id WHERE x.id = ? AND y.id = ?", a, b).Scan(&n)
	return n > 0, err
}

// prefixScanner scans one leading column before a case's columns.
type prefixScanner struct {
	r     scanner
	first any
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.r.Scan(append([]any{p.first}, dest...)...)
}

// currentRoots re-points the auto-linked contacts at their customer
// group's root as it is in this transaction.
func currentRoots(ctx context.Context, tx *store.Tx, stored []interaction.Recorded, auto []int) error {
	ids := []any{}
	seen := map[id.ID]bool{}
	for _, i := range auto {
		if c := stored[i].CustomerID; !seen[c] {
			seen[c] = true
			ids = append(ids, c)
		}
	}
	rows, err := tx.Query(ctx, "SELECT id, root_id FROM customers WHERE id IN ("+store.Placeholders(len(ids))+")", ids...)
	if err != nil {
		return fmt.Errorf("reading customer groups: %w", err)
	}
	defer rows.Close()
	root := map[id.ID]id.ID{}
	for rows.Next() {
		var c, r id.ID
		if err := rows.Scan(&c, &r); err != nil {
			return err
		}
		root[c] = r
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, i := range auto {
		if r, ok := root[stored[i].CustomerID]; ok {
			stored[i].CustomerID = r
		}
	}
	return nil
}

// opensCases tells whether a contact of this kind may open a case: a
// conversation may; a transaction or a self-service session (a purchase, a
// payment, a survey answer, a kiosk session) joins an open case but does not
// open one by itself.
func opensCases(kind string) bool {
	switch kind {
	case "purchase", "order", "return", "bill", "payment", "payment_reminder", "survey_answer", "page_view",
		"screen_view", "event", "ad_exposure", "referral", "kiosk_session", "delivery", "installation", "repair":
		return false
	}
	return true
}

// lastActivity is when a case last saw a contact (its creation if none).
func lastActivity(c *Case) time.Time {
	t := c.CreatedAt
	for _, x := range []*time.Time{c.LastInboundAt, c.LastOutboundAt} {
		if x != nil && x.After(t) {
			t = *x
		}
	}
	return t
}

// pickCase applies the join rule. "Recent enough" compares the contact's
// own time with the case's last contact, either way round, so that
// imported or late-arriving history joins the case of its own days.
func pickCase(open []*Case, in *interaction.Input, rule JoinRule) *Case {
	window := time.Duration(rule.WindowHours) * time.Hour
	var best *Case
	for _, c := range open {
		gap := in.OccurredAt.Sub(lastActivity(c))
		if gap < 0 {
			gap = -gap
		}
		if !IsOpen(c.Status) || gap > window {
			continue
		}
		if rule.SameReason && in.Reason != "" && c.Reason != "" && in.Reason != c.Reason {
			continue
		}
		// Prefer a case about the same reason; otherwise the most active.
		if best == nil || (in.Reason != "" && c.Reason == in.Reason && best.Reason != in.Reason) {
			best = c
		}
	}
	return best
}

// subjectFor names a case opened by a contact.
func subjectFor(in *interaction.Input, cp cpInfo) string {
	if s := strings.TrimSpace(in.Subject); s != "" {
		return richtext.Preview(s, 120)
	}
	for _, t := range []string{in.Summary, in.Content} {
		if p := richtext.Preview(richtext.PlainFromHTML(t), 80); p != "" {
			return p
		}
	}
	return strings.ReplaceAll(in.Kind, "_", " ") + " on " + cp.name
}

func validReasonOrEmpty(ctx context.Context, tx *store.Tx, s *Service, reason string) string {
	if reason == "" || s.checkReason(ctx, tx, reason) != nil {
		return ""
	}
	return reason
}
