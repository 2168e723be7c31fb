// Package cases groups a customer's interactions about one need — across
// channels and days — into cases, keeps each case's history, internal notes
// and SLA clocks, and answers the inbox queries of the desk.
//
// A new inbound contact joins the customer's open case on whatever channel it
// arrives (the join rule), otherwise it opens a new case when its contact
// point opens cases. Every change is written to the case's history in the
// same transaction as the change itself.
package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/businesshours"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Statuses of a case. Open statuses are the first four.
const (
	New             = "new"
	Open            = "open"
	WaitingCustomer = "waiting_on_customer"
	WaitingUs       = "waiting_on_us"
	Resolved        = "resolved"
	Closed          = "closed"
)

// Statuses lists every status in the order the desk shows them.
var Statuses = []string{New, Open, WaitingCustomer, WaitingUs, Resolved, Closed}

// OpenStatuses are the statuses of a case that still needs work.
var OpenStatuses = []string{New, Open, WaitingCustomer, WaitingUs}

// IsOpen tells whether a status still needs work.
func IsOpen(status string) bool { return slices.Contains(OpenStatuses, status) }

// openFlag is the stored is_open column of a status.
func openFlag(status string) int {
	if IsOpen(status) {
		return 1
	}
	return 0
}

// Priorities, most urgent first.
var Priorities = []string{"urgent", "high", "normal", "low"}

// DefaultPriority is the priority of a case when none is given.
const DefaultPriority = "normal"

// SLA states shown on a case and filtered in the inbox.
const (
	SLANone     = "none"     // no policy applies
	SLAOK       = "ok"       // every running clock is inside its target
	SLAWarning  = "warning"  // a clock has used up its warning share
	SLABreached = "breached" // a target was missed
	SLAPaused   = "paused"   // waiting on the customer: clocks stand still
)

// SLAStates lists the states in the order the desk shows them.
var SLAStates = []string{SLABreached, SLAWarning, SLAOK, SLAPaused, SLANone}

// Case is one customer need.
type Case struct {
	ID               id.ID      `json:"id"`
	CustomerID       id.ID      `json:"customer_id"`
	Subject          string     `json:"subject"`
	Reason           string     `json:"reason"`
	Status           string     `json:"status"`
	Priority         string     `json:"priority"`
	TeamID           *id.ID     `json:"team_id"`
	OwnerID          *id.ID     `json:"owner_id"`
	ContactPointID   *id.ID     `json:"contact_point_id"`
	Channel          string     `json:"channel"`
	Tags             []string   `json:"tags"`
	Resolution       string     `json:"resolution"`
	MergedInto       *id.ID     `json:"merged_into,omitempty"`
	InteractionCount int        `json:"interaction_count"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	LastInboundAt    *time.Time `json:"last_inbound_at"`
	LastOutboundAt   *time.Time `json:"last_outbound_at"`
	FirstResponseAt  *time.Time `json:"first_response_at"`
	ResolvedAt       *time.Time `json:"resolved_at"`
	ClosedAt         *time.Time `json:"closed_at"`
	SLA              SLA        `json:"sla"`
	// Version grows with every change; an update may name the version it
	// was made against and is refused if the case changed meanwhile.
	Version int `json:"version"`
}

// SLA is the state of a case's service-level clocks.
type SLA struct {
	PolicyID         *id.ID     `json:"policy_id"`
	State            string     `json:"state"`
	FirstResponseDue *time.Time `json:"first_response_due"`
	NextResponseDue  *time.Time `json:"next_response_due"`
	ResolutionDue    *time.Time `json:"resolution_due"`
	PausedAt         *time.Time `json:"paused_at"`
	BreachedAt       *time.Time `json:"breached_at"`
}

// NextDue is the earliest running target, nil when none runs.
func (s SLA) NextDue() *time.Time {
	var next *time.Time
	for _, t := range []*time.Time{s.FirstResponseDue, s.NextResponseDue, s.ResolutionDue} {
		if t != nil && (next == nil || t.Before(*next)) {
			next = t
		}
	}
	return next
}

// Actor is who makes a change: a user of the desk, an API token, or the
// system itself (UserID 0).
type Actor struct {
	UserID id.ID
	Name   string
}

// System is the actor of automatic changes (joining a case, SLA events).
var System = Actor{Name: "Touchpoint"}

// Publisher sends live events to open pages (internal/bus).
type Publisher interface {
	Publish(ctx context.Context, e bus.Event) error
}

// Service manages cases.
type Service struct {
	db           *store.DB
	customers    *customer.Service
	interactions *interaction.Service
	bus          Publisher
	log          *slog.Logger
	now          func() time.Time

	mu       sync.Mutex
	cpInfos  map[id.ID]cpInfo // contact point → does it open cases, its kind and name
	cpLoaded time.Time
	sla      *slaRules
}

type cpInfo struct {
	opens bool
	kind  string
	name  string
}

// NewService returns the case service. It installs itself as the case
// linker of interactions.
func NewService(db *store.DB, customers *customer.Service, interactions *interaction.Service, pub Publisher, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{db: db, customers: customers, interactions: interactions, bus: pub, log: log}
	s.SetClock(time.Now)
	interactions.SetCaseLinker(s)
	return s
}

// SetClock replaces the service's clock, for tests and simulations that
// move time by hand (SLA targets, warnings and breaches follow it). Times
// are kept to the microsecond, as the store keeps them, so that a time
// computed in memory equals the same time read back. Call it before the
// service is used; it is not safe to call while other calls run.
func (s *Service) SetClock(now func() time.Time) {
	s.now = func() time.Time { return now().UTC().Truncate(time.Microsecond) }
}

const caseColumns = `c.id, c.customer_id, c.subject, c.reason, c.status, c.priority, c.team_id, c.owner_id,
	c.contact_point_id, c.channel, c.tags, c.resolution, c.merged_into, c.interaction_count, c.created_at, c.updated_at,
	c.last_inbound_at, c.last_outbound_at, c.first_response_at, c.resolved_at, c.closed_at, c.sla_policy_id,
	c.first_response_due, c.next_response_due, c.resolution_due, c.sla_state, c.sla_paused_at, c.sla_breached_at, c.version`

type scanner interface{ Scan(...any) error }

type calendar = *businesshours.Calendar

func scanCase(r scanner) (*Case, error) {
	var c Case
	var team, owner, cp, merged, policy sql.NullInt64
	var tags string
	var created, updated int64
	var lastIn, lastOut, firstResp, resolved, closed, frDue, nrDue, resDue, paused, breached sql.NullInt64
	if err := r.Scan(&c.ID, &c.CustomerID, &c.Subject, &c.Reason, &c.Status, &c.Priority, &team, &owner, &cp,
		&c.Channel, &tags, &c.Resolution, &merged, &c.InteractionCount, &created, &updated, &lastIn, &lastOut,
		&firstResp, &resolved, &closed, &policy, &frDue, &nrDue, &resDue, &c.SLA.State, &paused, &breached,
		&c.Version); err != nil {
		return nil, err
	}
	c.TeamID, c.OwnerID, c.ContactPointID, c.MergedInto, c.SLA.PolicyID = optID(team), optID(owner), optID(cp), optID(merged), optID(policy)
	c.CreatedAt, c.UpdatedAt = micros(created), micros(updated)
	c.LastInboundAt, c.LastOutboundAt, c.FirstResponseAt = optTime(lastIn), optTime(lastOut), optTime(firstResp)
	c.ResolvedAt, c.ClosedAt = optTime(resolved), optTime(closed)
	c.SLA.FirstResponseDue, c.SLA.NextResponseDue, c.SLA.ResolutionDue = optTime(frDue), optTime(nrDue), optTime(resDue)
	c.SLA.PausedAt, c.SLA.BreachedAt = optTime(paused), optTime(breached)
	if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil || c.Tags == nil {
		c.Tags = []string{}
	}
	return &c, nil
}

func micros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func optID(v sql.NullInt64) *id.ID {
	if !v.Valid {
		return nil
	}
	x := id.ID(v.Int64)
	return &x
}

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := micros(v.Int64)
	return &t
}

// nullTime stores an optional time as micros or NULL.
func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func nullID(v *id.ID) any {
	if v == nil || *v == 0 {
		return nil
	}
	return int64(*v)
}

type querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// Get returns a case.
func (s *Service) Get(ctx context.Context, caseID id.ID) (*Case, error) {
	return get(ctx, s.db, caseID)
}

func get(ctx context.Context, q querier, caseID id.ID) (*Case, error) {
	c, err := scanCase(q.QueryRow(ctx, "SELECT "+caseColumns+" FROM cases c WHERE c.id = ?", caseID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("case %s", caseID)
	}
	if err != nil {
		return nil, fmt.Errorf("reading case %s: %w", caseID, err)
	}
	return c, nil
}

// ForCustomer lists the cases of a customer's whole merge group, open ones
// first, then newest first.
func (s *Service) ForCustomer(ctx context.Context, customerID id.ID) ([]*Case, error) {
	_, members, err := s.customers.Members(ctx, customerID)
	if err != nil {
		return nil, err
	}
	args := make([]any, len(members))
	for i, m := range members {
		args[i] = m
	}
	rows, err := s.db.Query(ctx, "SELECT "+caseColumns+" FROM cases c WHERE c.customer_id IN ("+store.Placeholders(len(members))+
		") ORDER BY CASE WHEN c.status IN ('resolved', 'closed') THEN 1 ELSE 0 END, c.updated_at DESC, c.id DESC LIMIT 200", args...)
	if err != nil {
		return nil, fmt.Errorf("reading cases of customer %s: %w", customerID, err)
	}
	return collect(rows)
}

func collect(rows *sql.Rows) ([]*Case, error) {
	defer rows.Close()
	out := []*Case{}
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Limits on case fields.
const (
	maxSubject    = 300
	maxResolution = 5000
	maxNote       = 20000
	maxTags       = 20
	maxTag        = 40
)

func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return errs.Invalidf(field, "is not valid UTF-8")
	}
	if utf8.RuneCountInString(v) > max {
		return errs.Invalidf(field, "is longer than %d characters", max)
	}
	return nil
}

func normalizeTags(tags []string) ([]string, error) {
	out := []string{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || slices.Contains(out, t) {
			continue
		}
		if utf8.RuneCountInString(t) > maxTag || strings.ContainsAny(t, ",<>\"") {
			return nil, errs.Invalidf("tags", "tag %q must be at most %d characters without , < > or \"", t, maxTag)
		}
		out = append(out, t)
	}
	if len(out) > maxTags {
		return nil, errs.Invalidf("tags", "at most %d tags", maxTags)
	}
	slices.Sort(out)
	return out, nil
}

// event appends one entry to a case's history.
func event(ctx context.Context, tx *store.Tx, caseID id.ID, at time.Time, actor Actor, kind string, detail map[string]any) error {
	d := "{}"
	if len(detail) > 0 {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		d = string(b)
	}
	_, err := tx.Exec(ctx, "INSERT INTO case_events (id, case_id, at, actor_id, actor_name, kind, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
		tx.NewID(), caseID, at.UnixMicro(), nullID(&actor.UserID), actor.Name, kind, d)
	if err != nil {
		return fmt.Errorf("recording the history of case %s: %w", caseID, err)
	}
	return nil
}

// HistoryEntry is one change in a case's history.
type HistoryEntry struct {
	ID        id.ID          `json:"id"`
	At        time.Time      `json:"at"`
	ActorID   *id.ID         `json:"actor_id"`
	ActorName string         `json:"actor_name"`
	Kind      string         `json:"kind"`
	Detail    map[string]any `json:"detail"`
}

// History returns a case's history, oldest first (at most 2000 entries).
func (s *Service) History(ctx context.Context, caseID id.ID) ([]HistoryEntry, error) {
	return s.RecentHistory(ctx, caseID, 2000)
}

// RecentHistory returns the newest n entries of a case's history, oldest first.
func (s *Service) RecentHistory(ctx context.Context, caseID id.ID, n int) ([]HistoryEntry, error) {
	if _, err := s.Get(ctx, caseID); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT id, at, actor_id, actor_name, kind, detail FROM (SELECT * FROM case_events WHERE case_id = ? ORDER BY id DESC LIMIT ?) AS recent ORDER BY id", caseID, n)
	if err != nil {
		return nil, fmt.Errorf("reading history of case %s: %w", caseID, err)
	}
	defer rows.Close()
	out := []HistoryEntry{}
	for rows.Next() {
		var h HistoryEntry
		var at int64
		var actor sql.NullInt64
		var detail string
		if err := rows.Scan(&h.ID, &at, &actor, &h.ActorName, &h.Kind, &detail); err != nil {
			return nil, err
		}
		h.At, h.ActorID = micros(at), optID(actor)
		_ = json.Unmarshal([]byte(detail), &h.Detail)
		out = append(out, h)
	}
	return out, rows.Err()
}

// publish tells open pages about a change; it never fails the change.
func (s *Service) publish(ctx context.Context, typ string, c *Case, extra map[string]any) {
	if s.bus == nil || c == nil {
		return
	}
	data := map[string]any{"case_id": c.ID, "customer_id": c.CustomerID, "status": c.Status, "version": c.Version}
	for k, v := range extra {
		data[k] = v
	}
	b, _ := json.Marshal(data)
	topics := []string{"case:" + c.ID.String(), "customer:" + c.CustomerID.String(), "inbox"}
	if c.OwnerID != nil {
		topics = append(topics, "user:"+c.OwnerID.String())
	}
	if err := s.bus.Publish(ctx, bus.Event{Type: typ, Topics: topics, Data: b, At: s.now().UTC()}); err != nil {
		s.log.Warn("publishing a case event", "case", c.ID, "type", typ, "err", err)
	}
}

var errNoRows = sql.ErrNoRows
