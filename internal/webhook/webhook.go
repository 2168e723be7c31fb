// Package webhook sends signed events to integrators' URLs: subscriptions,
// a durable outbox of deliveries written in the transactions that cause the
// events (Emit), and a dispatcher that posts them with retries.
//
// Only client.go touches net/http; the rest is storage and policy.
package webhook

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/secret"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/worker"
)

// The event types a subscription may ask for, besides "*" (all of them).
// PingEvent is sent only by Ping, whatever the subscription asks for.
const (
	InteractionCreated   = "interaction.created"
	CaseCreated          = "case.created"
	CaseUpdated          = "case.updated"
	CaseNoteAdded        = "case.note_added"
	CaseSLAChanged       = "case.sla_changed"
	WorkItemQueued       = "work_item.queued"
	OfferMade            = "offer.made"
	OfferAccepted        = "offer.accepted"
	OfferDeclined        = "offer.declined"
	OfferTimedOut        = "offer.timed_out"
	WorkItemAssigned     = "work_item.assigned"
	WorkItemCompleted    = "work_item.completed"
	WorkItemAbandoned    = "work_item.abandoned"
	AgentPresenceChanged = "agent.presence_changed"

	AllEvents = "*"
	PingEvent = "webhook.ping"
)

// EventTypes lists the event types, in the order the docs give them.
var EventTypes = []string{
	InteractionCreated, CaseCreated, CaseUpdated, CaseNoteAdded, CaseSLAChanged,
	WorkItemQueued, OfferMade, OfferAccepted, OfferDeclined, OfferTimedOut,
	WorkItemAssigned, WorkItemCompleted, WorkItemAbandoned, AgentPresenceChanged,
}

// Delivery states.
const (
	Pending   = "pending"   // not tried yet
	Failed    = "failed"    // the last attempt failed; another is due at next_attempt_at
	Delivered = "delivered" // a 2xx answer
	Dead      = "dead"      // no more attempts (out of attempts, 410, or subscription inactive)
)

// Retry policy: about a day of attempts, with growing gaps.
const (
	MaxAttempts  = 8
	firstBackoff = 30 * time.Second
	backoffRatio = 4
	maxBackoff   = 10 * time.Hour
	// claimTTL is how long a node owns a claimed delivery. A node that dies
	// between claim and answer loses it after this, and another sends it.
	// It is well above the send timeout, so a live sender is never overtaken.
	claimTTL = 2 * time.Minute
	// SendTimeout bounds one POST, answer included.
	SendTimeout = 10 * time.Second
	// oldSecretGrace is how long a rotated secret keeps signing too.
	oldSecretGrace = 24 * time.Hour
	maxErrorLen    = 512
	maxNameLen     = 100
	maxURLLen      = 2000
)

// Options configure a Service.
type Options struct {
	// AllowPrivate permits http:// URLs and targets on loopback, private,
	// link-local and other non-public addresses. Off, those are refused on
	// create and, after name resolution, at delivery time (SSRF guard).
	AllowPrivate bool
	Log          *slog.Logger
	// Now is the clock (tests move it instead of sleeping).
	Now func() time.Time
	// Jitter returns a number in [0, 1) that spreads retries (default: random).
	Jitter func() float64
	// Post sends one delivery; nil means the HTTP client of client.go.
	Post Poster
}

// Poster sends one delivery and reports the receiver's answer.
type Poster interface {
	Post(ctx context.Context, req Request) Response
}

// Request is one attempt at a delivery.
type Request struct {
	URL     string
	Headers map[string]string
	Body    []byte
}

// Response is what came back: Status is 0 when no answer came (Err says why).
type Response struct {
	Status  int
	Snippet string // the start of the answer's body, for the delivery log
	Err     error
}

// Service manages subscriptions, writes deliveries and dispatches them.
type Service struct {
	db           *store.DB
	log          *slog.Logger
	now          func() time.Time
	jitter       func() float64
	allowPrivate atomic.Bool
	post         Poster
	wake         worker.Wake
	sent         *prometheus.CounterVec
}

// NewService returns the webhook service.
func NewService(db *store.DB, opt Options) *Service {
	s := &Service{db: db, log: opt.Log, now: opt.Now, jitter: opt.Jitter, post: opt.Post, wake: worker.NewWake()}
	s.allowPrivate.Store(opt.AllowPrivate)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.jitter == nil {
		s.jitter = rand.Float64
	}
	if s.post == nil {
		s.post = newHTTPPoster(s.allowPrivate.Load)
	}
	s.sent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "touchpoint_webhook_attempts_total",
		Help: "Webhook delivery attempts by outcome (delivered, failed, dead, gone).",
	}, []string{"outcome"})
	return s
}

// Collectors are the Prometheus metrics of the service, for the node's registry.
func (s *Service) Collectors() []prometheus.Collector { return []prometheus.Collector{s.sent} }

// SetAllowPrivate changes the SSRF guard (see Options.AllowPrivate).
func (s *Service) SetAllowPrivate(v bool) { s.allowPrivate.Store(v) }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Subscription is an integrator's endpoint and the events it wants. The
// signing secret is never part of it.
type Subscription struct {
	ID                id.ID     `json:"id"`
	Name              string    `json:"name"`
	URL               string    `json:"url"`
	Events            []string  `json:"events"`
	Active            bool      `json:"active"`
	DeactivatedReason string    `json:"deactivated_reason,omitempty"`
	SecretHint        string    `json:"secret_hint"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// WithSecret is a subscription with its signing secret, answered only by
// Create and RotateSecret.
type WithSecret struct {
	*Subscription
	Secret string `json:"secret"`
}

// Spec is what a client sends to create or change a subscription; nil
// fields are left as they are on update.
type Spec struct {
	Name   *string  `json:"name"`
	URL    *string  `json:"url"`
	Events []string `json:"events"`
	Active *bool    `json:"active"`
}

// Matches tells whether the subscription wants events of type typ.
func matches(events []string, typ string) bool {
	return slices.Contains(events, AllEvents) || slices.Contains(events, typ)
}

func (s *Service) checkName(n string) (string, error) {
	n = strings.TrimSpace(n)
	if n == "" || utf8.RuneCountInString(n) > maxNameLen {
		return "", errs.Invalidf("name", "must be 1 to %d characters", maxNameLen)
	}
	return n, nil
}

// checkURL refuses what the dispatcher could not or should not post to. The
// host's addresses are checked again at each delivery (names can change).
func (s *Service) checkURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxURLLen {
		return "", errs.Invalidf("url", "must be an absolute https URL of at most %d characters", maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "", errs.Invalidf("url", "must be an absolute https URL such as https://example.com/hooks")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !s.allowPrivate.Load() {
			return "", errs.Invalidf("url", "must use https (http is allowed only when private targets are allowed)")
		}
	default:
		return "", errs.Invalidf("url", "scheme %q is not https", u.Scheme)
	}
	if u.User != nil {
		return "", errs.Invalidf("url", "must not carry credentials; check the signature instead")
	}
	if u.Fragment != "" {
		return "", errs.Invalidf("url", "must not have a #fragment")
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		if !s.allowPrivate.Load() && !PublicAddr(addr) {
			return "", errs.Invalidf("url", "address %s is not a public address", host)
		}
	} else if !s.allowPrivate.Load() && (strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost")) {
		return "", errs.Invalidf("url", "host %s is this machine", host)
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil {
			return "", errs.Invalidf("url", "port %q is not a port", p)
		}
	}
	return u.String(), nil
}

// PublicAddr tells whether addr is a public unicast address: the SSRF guard
// refuses loopback, private (RFC 1918, fc00::/7), link-local (cloud metadata
// services live there), CGNAT, unspecified and multicast addresses.
func PublicAddr(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 can reach private IPv4
}

func checkEvents(evs []string) ([]string, error) {
	if len(evs) == 0 {
		return nil, errs.Invalidf("events", "name at least one event type, or \"*\" for all")
	}
	out := make([]string, 0, len(evs))
	for i, e := range evs {
		e = strings.TrimSpace(e)
		if e != AllEvents && !slices.Contains(EventTypes, e) {
			return nil, errs.Invalidf(fmt.Sprintf("events[%d]", i), "unknown event type %q; one of %s or \"*\"", e, strings.Join(EventTypes, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if slices.Contains(out, AllEvents) {
		out = []string{AllEvents}
	}
	return out, nil
}

// Create adds a subscription; the answer carries its secret, this once only.
func (s *Service) Create(ctx context.Context, spec Spec) (*WithSecret, error) {
	if spec.Name == nil {
		return nil, errs.Invalidf("name", "is required")
	}
	if spec.URL == nil {
		return nil, errs.Invalidf("url", "is required")
	}
	name, err := s.checkName(*spec.Name)
	if err != nil {
		return nil, err
	}
	u, err := s.checkURL(*spec.URL)
	if err != nil {
		return nil, err
	}
	evs, err := checkEvents(spec.Events)
	if err != nil {
		return nil, err
	}
	active := spec.Active == nil || *spec.Active
	now := s.now().UTC().Truncate(time.Microsecond)
	sec := secret.New("whsec_")
	sub := &Subscription{Name: name, URL: u, Events: evs, Active: active, SecretHint: secret.Hint(sec), CreatedAt: now, UpdatedAt: now}
	evJSON, _ := json.Marshal(evs)
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		sub.ID = tx.NewID()
		_, err := tx.Exec(ctx, `INSERT INTO webhook_subscriptions (id, name, url, events, active, secret, secret_hint, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sub.ID, name, u, string(evJSON), boolInt(active), sec, sub.SecretHint, now.UnixMicro(), now.UnixMicro())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating webhook subscription: %w", err)
	}
	return &WithSecret{Subscription: sub, Secret: sec}, nil
}

const subColumns = "id, name, url, events, active, deactivated_reason, secret_hint, created_at, updated_at"

type scanner interface{ Scan(...any) error }

func scanSub(r scanner) (*Subscription, error) {
	var sub Subscription
	var evs string
	var active int
	var created, updated int64
	if err := r.Scan(&sub.ID, &sub.Name, &sub.URL, &evs, &active, &sub.DeactivatedReason, &sub.SecretHint, &created, &updated); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(evs), &sub.Events)
	if sub.Events == nil {
		sub.Events = []string{}
	}
	sub.Active = active != 0
	sub.CreatedAt, sub.UpdatedAt = micros(created), micros(updated)
	return &sub, nil
}

// List returns every subscription, newest first.
func (s *Service) List(ctx context.Context) ([]*Subscription, error) {
	rows, err := s.db.Query(ctx, "SELECT "+subColumns+" FROM webhook_subscriptions ORDER BY id DESC")
	if err != nil {
		return nil, fmt.Errorf("listing webhook subscriptions: %w", err)
	}
	defer rows.Close()
	out := []*Subscription{}
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Get returns one subscription.
func (s *Service) Get(ctx context.Context, subID id.ID) (*Subscription, error) {
	sub, err := scanSub(s.db.QueryRow(ctx, "SELECT "+subColumns+" FROM webhook_subscriptions WHERE id = ?", subID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("webhook subscription %s", subID)
	}
	if err != nil {
		return nil, fmt.Errorf("reading webhook subscription %s: %w", subID, err)
	}
	return sub, nil
}

// Update changes the fields spec sets. Activating a subscription clears the
// reason it was deactivated for.
func (s *Service) Update(ctx context.Context, subID id.ID, spec Spec) (*Subscription, error) {
	var name, u string
	var evs []string
	var err error
	if spec.Name != nil {
		if name, err = s.checkName(*spec.Name); err != nil {
			return nil, err
		}
	}
	if spec.URL != nil {
		if u, err = s.checkURL(*spec.URL); err != nil {
			return nil, err
		}
	}
	if spec.Events != nil {
		if evs, err = checkEvents(spec.Events); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		sets := []string{"updated_at = ?"}
		args := []any{now.UnixMicro()}
		if spec.Name != nil {
			sets, args = append(sets, "name = ?"), append(args, name)
		}
		if spec.URL != nil {
			sets, args = append(sets, "url = ?"), append(args, u)
		}
		if evs != nil {
			b, _ := json.Marshal(evs)
			sets, args = append(sets, "events = ?"), append(args, string(b))
		}
		if spec.Active != nil {
			sets, args = append(sets, "active = ?", "deactivated_reason = ''"), append(args, boolInt(*spec.Active))
		}
		res, err := tx.Exec(ctx, "UPDATE webhook_subscriptions SET "+strings.Join(sets, ", ")+" WHERE id = ?", append(args, subID)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("webhook subscription %s", subID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("updating webhook subscription: %w", err)
	}
	return s.Get(ctx, subID)
}

// Delete removes a subscription and its delivery log.
func (s *Service) Delete(ctx context.Context, subID id.ID) error {
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM webhook_subscriptions WHERE id = ?", subID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("webhook subscription %s", subID)
		}
		_, err = tx.Exec(ctx, "DELETE FROM webhook_deliveries WHERE subscription_id = ?", subID)
		return err
	})
}

// RotateSecret makes a new signing secret and answers it, this once only.
// The old one keeps signing too (a second v1 in the signature) for a day, so
// that receivers can switch without refusing deliveries.
func (s *Service) RotateSecret(ctx context.Context, subID id.ID) (*WithSecret, error) {
	sec := secret.New("whsec_")
	now := s.now().UTC()
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET previous_secret = secret, previous_until = ?, secret = ?, secret_hint = ?, updated_at = ?
			WHERE id = ?`, now.Add(oldSecretGrace).UnixMicro(), sec, secret.Hint(sec), now.UnixMicro(), subID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("webhook subscription %s", subID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rotating webhook secret: %w", err)
	}
	sub, err := s.Get(ctx, subID)
	if err != nil {
		return nil, err
	}
	return &WithSecret{Subscription: sub, Secret: sec}, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func micros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func optMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := micros(v.Int64)
	return &t
}
