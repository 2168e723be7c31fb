package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/businesshours"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Policy is an SLA policy: response and resolution targets for cases of a
// priority and team, counted in the business hours of a calendar.
type Policy struct {
	ID            id.ID     `json:"id"`
	Name          string    `json:"name"`
	Priority      string    `json:"priority"` // "" = any priority
	TeamID        *id.ID    `json:"team_id"`  // nil = any team
	CalendarID    *id.ID    `json:"calendar_id"`
	FirstResponse Seconds   `json:"first_response_s"`
	NextResponse  Seconds   `json:"next_response_s"`
	Resolution    Seconds   `json:"resolution_s"`
	WarnPercent   int       `json:"warn_percent"`
	Disabled      bool      `json:"disabled"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Seconds is a target duration, written in JSON as whole seconds.
type Seconds int64

// Duration converts to a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) * time.Second }

// Calendar is a stored business-hours calendar.
type Calendar struct {
	ID       id.ID             `json:"id"`
	Name     string            `json:"name"`
	Timezone string            `json:"timezone"`
	Week     map[string]string `json:"week"`
	Holidays []string          `json:"holidays"`
}

// SaveCalendar creates a calendar or, with an ID, replaces it.
func (s *Service) SaveCalendar(ctx context.Context, c Calendar) (*Calendar, error) {
	if c.Name == "" {
		return nil, errs.Invalidf("name", "is required")
	}
	parsed, err := businesshours.Parse(c.Name, c.Timezone, c.Week, c.Holidays)
	if err != nil {
		return nil, err
	}
	tz, week, holidays := parsed.Spec()
	c.Timezone, c.Week, c.Holidays = tz, week, holidays
	wk, _ := json.Marshal(week)
	hol, _ := json.Marshal(holidays)
	now := s.now().UTC().UnixMicro()
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if c.ID == 0 {
			c.ID = tx.NewID()
			_, err := tx.Exec(ctx, "INSERT INTO business_calendars (id, name, timezone, week, holidays, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
				c.ID, c.Name, tz, string(wk), string(hol), now, now)
			if store.IsUniqueViolation(err) {
				return errs.Conflictf("a calendar named %q exists", c.Name)
			}
			return err
		}
		res, err := tx.Exec(ctx, "UPDATE business_calendars SET name = ?, timezone = ?, week = ?, holidays = ?, updated_at = ? WHERE id = ?",
			c.Name, tz, string(wk), string(hol), now, c.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("calendar %s", c.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.forgetPolicies()
	return &c, nil
}

// BusinessHours returns every stored calendar, parsed, by id (for routing's
// queue hours).
func (s *Service) BusinessHours(ctx context.Context) (map[string]*businesshours.Calendar, error) {
	cs, err := s.Calendars(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*businesshours.Calendar, len(cs))
	for _, c := range cs {
		cal, err := businesshours.Parse(c.Name, c.Timezone, c.Week, c.Holidays)
		if err != nil {
			return nil, fmt.Errorf("calendar %s: %w", c.ID, err)
		}
		out[c.ID.String()] = cal
	}
	return out, nil
}

// Calendars lists the stored calendars.
func (s *Service) Calendars(ctx context.Context) ([]*Calendar, error) {
	rows, err := s.db.Query(ctx, "SELECT id, name, timezone, week, holidays FROM business_calendars ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Calendar{}
	for rows.Next() {
		var c Calendar
		var wk, hol string
		if err := rows.Scan(&c.ID, &c.Name, &c.Timezone, &wk, &hol); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(wk), &c.Week)
		_ = json.Unmarshal([]byte(hol), &c.Holidays)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// SavePolicy creates an SLA policy or, with an ID, replaces it. Open cases
// keep the targets they were given; new and re-prioritised cases use it.
func (s *Service) SavePolicy(ctx context.Context, p Policy) (*Policy, error) {
	if p.Name == "" {
		return nil, errs.Invalidf("name", "is required")
	}
	if err := checkText("name", p.Name, 100); err != nil {
		return nil, err
	}
	if p.Priority != "" && !slices.Contains(Priorities, p.Priority) {
		return nil, errs.Invalidf("priority", "must be empty (any) or one of %v", Priorities)
	}
	for field, v := range map[string]Seconds{"first_response_s": p.FirstResponse, "next_response_s": p.NextResponse, "resolution_s": p.Resolution} {
		if v < 0 || v > 366*24*3600 {
			return nil, errs.Invalidf(field, "must be between 0 (no target) and one year")
		}
	}
	if p.WarnPercent == 0 {
		p.WarnPercent = 80
	}
	if p.WarnPercent < 1 || p.WarnPercent > 99 {
		return nil, errs.Invalidf("warn_percent", "must be between 1 and 99")
	}
	now := s.now().UTC()
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if p.TeamID != nil {
			if err := exists(ctx, tx, "teams", *p.TeamID, "team_id"); err != nil {
				return err
			}
		}
		if p.CalendarID != nil {
			if err := exists(ctx, tx, "business_calendars", *p.CalendarID, "calendar_id"); err != nil {
				return err
			}
		}
		var disabled any
		if p.Disabled {
			disabled = now.UnixMicro()
		}
		if p.ID == 0 {
			p.ID, p.CreatedAt = tx.NewID(), now
			p.UpdatedAt = now
			_, err := tx.Exec(ctx, `INSERT INTO sla_policies (id, name, priority, team_id, calendar_id, first_response_s, next_response_s,
				resolution_s, warn_percent, disabled_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				p.ID, p.Name, p.Priority, nullID(p.TeamID), nullID(p.CalendarID), int64(p.FirstResponse), int64(p.NextResponse),
				int64(p.Resolution), p.WarnPercent, disabled, now.UnixMicro(), now.UnixMicro())
			return err
		}
		p.UpdatedAt = now
		res, err := tx.Exec(ctx, `UPDATE sla_policies SET name = ?, priority = ?, team_id = ?, calendar_id = ?, first_response_s = ?,
			next_response_s = ?, resolution_s = ?, warn_percent = ?, disabled_at = ?, updated_at = ? WHERE id = ?`,
			p.Name, p.Priority, nullID(p.TeamID), nullID(p.CalendarID), int64(p.FirstResponse), int64(p.NextResponse),
			int64(p.Resolution), p.WarnPercent, disabled, now.UnixMicro(), p.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("SLA policy %s", p.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.forgetPolicies()
	return &p, nil
}

func exists(ctx context.Context, tx *store.Tx, table string, v id.ID, field string) error {
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM "+table+" WHERE id = ?", v).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.Invalidf(field, "no such %s: %s", singular(table), v)
	}
	return nil
}

func singular(table string) string {
	switch table {
	case "business_calendars":
		return "calendar"
	case "contact_points":
		return "contact point"
	}
	return table[:len(table)-1]
}

// Policies lists the SLA policies.
func (s *Service) Policies(ctx context.Context) ([]*Policy, error) {
	return loadPolicies(ctx, s.db)
}

func loadPolicies(ctx context.Context, q querier) ([]*Policy, error) {
	rows, err := q.Query(ctx, `SELECT id, name, priority, team_id, calendar_id, first_response_s, next_response_s, resolution_s,
		warn_percent, disabled_at, created_at, updated_at FROM sla_policies ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("reading SLA policies: %w", err)
	}
	defer rows.Close()
	out := []*Policy{}
	for rows.Next() {
		var p Policy
		var team, cal, disabled sql.NullInt64
		var created, updated int64
		if err := rows.Scan(&p.ID, &p.Name, &p.Priority, &team, &cal, &p.FirstResponse, &p.NextResponse, &p.Resolution,
			&p.WarnPercent, &disabled, &created, &updated); err != nil {
			return nil, err
		}
		p.TeamID, p.CalendarID, p.Disabled = optID(team), optID(cal), disabled.Valid
		p.CreatedAt, p.UpdatedAt = micros(created), micros(updated)
		out = append(out, &p)
	}
	return out, rows.Err()
}

// slaRules is the cached view of policies and their calendars.
type slaRules struct {
	policies  []*Policy
	calendars map[id.ID]*businesshours.Calendar
	loaded    time.Time
}

// rulesTTL bounds how long another node's policy change takes to apply here.
const rulesTTL = 30 * time.Second

func (s *Service) forgetPolicies() {
	s.mu.Lock()
	s.sla = nil
	s.mu.Unlock()
}

func (s *Service) rules(ctx context.Context, q querier) (*slaRules, error) {
	s.mu.Lock()
	r := s.sla
	s.mu.Unlock()
	if r != nil && s.now().Sub(r.loaded) < rulesTTL {
		return r, nil
	}
	pols, err := loadPolicies(ctx, q)
	if err != nil {
		return nil, err
	}
	r = &slaRules{policies: pols, calendars: map[id.ID]*businesshours.Calendar{}, loaded: s.now()}
	rows, err := q.Query(ctx, "SELECT id, name, timezone, week, holidays FROM business_calendars")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var cid id.ID
		var name, tz, wk, hol string
		if err := rows.Scan(&cid, &name, &tz, &wk, &hol); err != nil {
			return nil, err
		}
		var week map[string]string
		var holidays []string
		_ = json.Unmarshal([]byte(wk), &week)
		_ = json.Unmarshal([]byte(hol), &holidays)
		cal, err := businesshours.Parse(name, tz, week, holidays)
		if err != nil {
			s.log.Warn("a stored calendar does not parse; counting around the clock", "calendar", cid, "err", err)
			cal = businesshours.AlwaysOpen()
		}
		r.calendars[cid] = cal
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.sla = r
	s.mu.Unlock()
	return r, nil
}

// policyFor picks the most specific enabled policy for a priority and team:
// team and priority both matching beats team only, beats priority only,
// beats a catch-all.
func (r *slaRules) policyFor(priority string, team *id.ID) (*Policy, *businesshours.Calendar) {
	var best *Policy
	bestScore := -1
	for _, p := range r.policies {
		if p.Disabled {
			continue
		}
		score := 0
		if p.TeamID != nil {
			if team == nil || *team != *p.TeamID {
				continue
			}
			score += 2
		}
		if p.Priority != "" {
			if p.Priority != priority {
				continue
			}
			score++
		}
		if score > bestScore {
			best, bestScore = p, score
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, r.calendar(best)
}

func (r *slaRules) calendar(p *Policy) *businesshours.Calendar {
	if p.CalendarID != nil {
		if c := r.calendars[*p.CalendarID]; c != nil {
			return c
		}
	}
	return businesshours.AlwaysOpen()
}

func (r *slaRules) policy(pid *id.ID) (*Policy, *businesshours.Calendar) {
	if pid == nil {
		return nil, nil
	}
	for _, p := range r.policies {
		if p.ID == *pid {
			return p, r.calendar(p)
		}
	}
	return nil, nil
}

// startClocks gives a case the targets of the policy that applies to it,
// counted from its creation.
func startClocks(c *Case, p *Policy, cal *businesshours.Calendar) {
	c.SLA = SLA{State: SLANone}
	if p == nil {
		return
	}
	pid := p.ID
	c.SLA.PolicyID = &pid
	due := func(target Seconds, from time.Time) *time.Time {
		if target <= 0 {
			return nil
		}
		t := cal.Add(from, target.Duration())
		return &t
	}
	if c.FirstResponseAt == nil {
		c.SLA.FirstResponseDue = due(p.FirstResponse, c.CreatedAt)
	}
	if c.FirstResponseAt != nil && c.LastInboundAt != nil && (c.LastOutboundAt == nil || c.LastOutboundAt.Before(*c.LastInboundAt)) {
		c.SLA.NextResponseDue = due(p.NextResponse, *c.LastInboundAt)
	}
	if c.ResolvedAt == nil {
		c.SLA.ResolutionDue = due(p.Resolution, c.CreatedAt)
	}
}

// carryClocks finishes moving a case onto another policy (after startClocks
// gave it the new targets counted from its creation). A clock that was
// running keeps the business time it has used, so time spent waiting on the
// customer still does not count: a case that waited and then gets a higher
// priority is not breached for the wait. A target the new policy already
// exceeds is due at once (or stays at its missed due). Resolved and closed
// cases run no clocks.
func carryClocks(c *Case, old SLA, oldP *Policy, oldCal *businesshours.Calendar, p *Policy, cal *businesshours.Calendar, now time.Time) {
	if !IsOpen(c.Status) {
		c.SLA.FirstResponseDue, c.SLA.NextResponseDue, c.SLA.ResolutionDue = nil, nil, nil
		return
	}
	if oldP == nil || p == nil {
		return
	}
	ref := now
	if old.PausedAt != nil {
		ref = *old.PausedAt
	}
	carry := func(due **time.Time, oldDue *time.Time, oldTarget, target Seconds) {
		if *due == nil || oldDue == nil || oldTarget <= 0 {
			return
		}
		var used time.Duration
		if oldDue.After(ref) {
			used = oldTarget.Duration() - oldCal.Between(ref, *oldDue)
		} else {
			used = oldTarget.Duration() + oldCal.Between(*oldDue, ref)
		}
		var t time.Time
		switch left := target.Duration() - used; {
		case left > 0:
			t = cal.Add(ref, left)
		case !oldDue.After(ref):
			t = *oldDue
		default:
			t = ref
		}
		*due = &t
	}
	carry(&c.SLA.FirstResponseDue, old.FirstResponseDue, oldP.FirstResponse, p.FirstResponse)
	carry(&c.SLA.NextResponseDue, old.NextResponseDue, oldP.NextResponse, p.NextResponse)
	carry(&c.SLA.ResolutionDue, old.ResolutionDue, oldP.Resolution, p.Resolution)
}

// Clock names used in breach and warning events.
const (
	ClockFirstResponse = "first_response"
	ClockNextResponse  = "next_response"
	ClockResolution    = "resolution"
)

type clockEvent struct {
	kind  string // sla_warning or sla_breach
	clock string
	due   time.Time
}

// evaluate sets the SLA state of a case at now, the next instant it must be
// looked at again, and returns the warnings and breaches that just happened.
func evaluate(c *Case, p *Policy, cal *businesshours.Calendar, now time.Time) (checkAt *time.Time, happened []clockEvent) {
	if p == nil || !IsOpen(c.Status) {
		if p == nil {
			c.SLA.State = SLANone
		}
		return nil, nil
	}
	if c.SLA.PausedAt != nil {
		c.SLA.State = SLAPaused
		return nil, nil
	}
	type clock struct {
		name   string
		due    *time.Time
		target Seconds
	}
	clocks := []clock{
		{ClockFirstResponse, c.SLA.FirstResponseDue, p.FirstResponse},
		{ClockNextResponse, c.SLA.NextResponseDue, p.NextResponse},
		{ClockResolution, c.SLA.ResolutionDue, p.Resolution},
	}
	state := SLANone
	rank := map[string]int{SLANone: 0, SLAOK: 1, SLAWarning: 2, SLABreached: 3}
	raise := func(s string) {
		if rank[s] > rank[state] {
			state = s
		}
	}
	var next *time.Time
	later := func(t time.Time) {
		if next == nil || t.Before(*next) {
			next = &t
		}
	}
	for _, k := range clocks {
		if k.due == nil || k.target <= 0 {
			continue
		}
		if !now.Before(*k.due) {
			raise(SLABreached)
			happened = append(happened, clockEvent{"sla_breach", k.name, *k.due})
			continue
		}
		remaining := cal.Between(now, *k.due)
		threshold := time.Duration(int64(k.target.Duration()) * int64(100-p.WarnPercent) / 100)
		if remaining <= threshold {
			raise(SLAWarning)
			happened = append(happened, clockEvent{"sla_warning", k.name, *k.due})
			later(*k.due)
		} else {
			raise(SLAOK)
			later(cal.Add(now, remaining-threshold))
			later(*k.due)
		}
	}
	c.SLA.State = state
	return next, happened
}

// pauseClocks stops the clocks while the case waits on the customer.
func pauseClocks(c *Case, now time.Time) {
	if c.SLA.PolicyID == nil || c.SLA.PausedAt != nil {
		return
	}
	t := now
	c.SLA.PausedAt = &t
	c.SLA.State = SLAPaused
}

// resumeClocks restarts paused clocks with the business time they had left.
func resumeClocks(c *Case, cal *businesshours.Calendar, now time.Time) {
	if c.SLA.PausedAt == nil {
		return
	}
	paused := *c.SLA.PausedAt
	c.SLA.PausedAt = nil
	if cal == nil {
		return
	}
	for _, d := range []**time.Time{&c.SLA.FirstResponseDue, &c.SLA.NextResponseDue, &c.SLA.ResolutionDue} {
		if *d == nil || !(*d).After(paused) {
			continue
		}
		left := cal.Between(paused, **d)
		t := cal.Add(now, left)
		*d = &t
	}
	c.SLA.State = SLAOK
}

// RunSLA looks at the cases whose clocks reach a warning or a target, every
// interval, until ctx ends. Several nodes may run it: each change is made in
// a transaction that re-reads the case.
func (s *Service) RunSLA(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.CheckSLA(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("checking SLA clocks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckSLA evaluates the cases due for a look now and records warnings and
// breaches; it returns how many cases changed state.
func (s *Service) CheckSLA(ctx context.Context) (int, error) {
	now := s.now().UTC()
	rows, err := s.db.Query(ctx, "SELECT id FROM cases WHERE sla_check_at IS NOT NULL AND sla_check_at <= ? ORDER BY sla_check_at LIMIT 500", now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("finding cases with clocks due: %w", err)
	}
	var due []id.ID
	for rows.Next() {
		var v id.ID
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	changed := 0
	for _, cid := range due {
		var after *Case
		var evs []clockEvent
		err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			c, err := lockCase(ctx, tx, cid)
			if err != nil {
				return err
			}
			before := c.SLA.State
			r, err := s.rules(ctx, tx)
			if err != nil {
				return err
			}
			p, cal := r.policy(c.SLA.PolicyID)
			evs, err = s.applyClock(ctx, tx, c, p, cal, now)
			if err != nil {
				return err
			}
			if c.SLA.State != before {
				after = c
			}
			return nil
		})
		if errors.Is(err, errs.ErrNotFound) {
			continue
		}
		if err != nil {
			return changed, err
		}
		if after != nil {
			changed++
			s.publish(ctx, "case.sla", after, map[string]any{"sla_state": after.SLA.State, "events": len(evs)})
		}
	}
	return changed, nil
}

// applyClock evaluates the clocks, records new warnings and breaches in the
// history and stores the SLA columns.
func (s *Service) applyClock(ctx context.Context, tx *store.Tx, c *Case, p *Policy, cal *businesshours.Calendar, now time.Time) ([]clockEvent, error) {
	checkAt, happened := evaluate(c, p, cal, now)
	var recorded []clockEvent
	for _, e := range happened {
		// Each clock warns and breaches once per target. The case's overall
		// state cannot tell (a first-response breach must not hide the
		// resolution clock's own warning and breach), so the history does.
		detail := map[string]any{"clock": e.clock, "due": e.due}
		done, err := inHistory(ctx, tx, c.ID, e.kind, detail)
		if err != nil {
			return nil, err
		}
		if done {
			continue
		}
		if e.kind == "sla_breach" && c.SLA.BreachedAt == nil {
			t := e.due
			c.SLA.BreachedAt = &t
		}
		if err := event(ctx, tx, c.ID, now, System, e.kind, detail); err != nil {
			return nil, err
		}
		recorded = append(recorded, e)
	}
	_, err := tx.Exec(ctx, `UPDATE cases SET sla_state = ?, sla_breached_at = ?, sla_check_at = ?, first_response_due = ?,
		next_response_due = ?, resolution_due = ?, sla_paused_at = ?, sla_policy_id = ? WHERE id = ?`,
		c.SLA.State, nullTime(c.SLA.BreachedAt), nullTime(checkAt), nullTime(c.SLA.FirstResponseDue),
		nullTime(c.SLA.NextResponseDue), nullTime(c.SLA.ResolutionDue), nullTime(c.SLA.PausedAt), nullID(c.SLA.PolicyID), c.ID)
	if err != nil {
		return nil, fmt.Errorf("storing the SLA clocks of case %s: %w", c.ID, err)
	}
	return recorded, nil
}

// inHistory tells whether a case's history holds an entry of this kind with
// exactly this detail (as event writes it).
func inHistory(ctx context.Context, tx *store.Tx, caseID id.ID, kind string, detail map[string]any) (bool, error) {
	b, err := json.Marshal(detail)
	if err != nil {
		return false, err
	}
	var n int
	err = tx.QueryRow(ctx, "SELECT COUNT(*) FROM case_events WHERE case_id = ? AND kind = ? AND detail = ?", caseID, kind, string(b)).Scan(&n)
	return n > 0, err
}
