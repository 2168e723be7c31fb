// Package messaging connects SMS, WhatsApp and social contact points to
// their providers (Twilio, Meta, Telegram): it records inbound messages as
// interactions, turns opt-out keywords into consent, follows delivery
// status callbacks, and holds the outbox Senders of those kinds. The wire
// formats are internal/channel/twilio's, meta's and telegram's; the HTTP
// endpoints are internal/web/hooks'.
package messaging

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/outbox"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Providers a contact point can be connected to.
const (
	Twilio   = "twilio"
	Meta     = "meta"
	Telegram = "telegram"
)

// Settings is what an sms, whatsapp or social contact point's settings say
// about its provider. Secrets (auth_token; app_secret, access_token,
// verify_token; bot_token, webhook_secret) are the contact point's secrets.
type Settings struct {
	// social: messenger, instagram, whatsapp (Meta) or telegram.
	Platform string `json:"platform"`
	// Twilio.
	AccountSID          string `json:"account_sid"`
	From                string `json:"from"`
	MessagingServiceSID string `json:"messaging_service_sid"`
	// Meta.
	PageID        string `json:"page_id"`
	PhoneNumberID string `json:"phone_number_id"`
	GraphVersion  string `json:"graph_version"`
	// Telegram.
	BotUsername string `json:"bot_username"`
	// PublicURL is the hub's address as the provider calls it (behind a
	// proxy the request's Host differs): Twilio signs it.
	PublicURL string `json:"public_url"`
	// APIBaseURL points the client at another API server (tests, fakes).
	APIBaseURL string `json:"api_base_url"`
}

// ParseSettings reads a contact point's settings.
func ParseSettings(raw json.RawMessage) Settings {
	var s Settings
	_ = json.Unmarshal(raw, &s)
	s.Platform = strings.ToLower(strings.TrimSpace(s.Platform))
	return s
}

// ProviderOf names the provider of a contact point ("" for none).
func ProviderOf(kind contactpoint.Kind, st Settings) string {
	switch kind {
	case "sms", "whatsapp":
		return Twilio
	case "social":
		switch st.Platform {
		case "messenger", "instagram", "whatsapp":
			return Meta
		case "telegram":
			return Telegram
		}
	}
	return ""
}

// Point is a contact point with what its webhooks need.
type Point struct {
	*contactpoint.ContactPoint
	Settings Settings
	Secrets  map[string]string
	Provider string
}

// Options configure a Service; zero fields take the defaults.
type Options struct {
	Log *slog.Logger
	// HTTPClient talks to the providers' APIs.
	HTTPClient *http.Client
	// PublicURL is the hub's public address for contact points that do
	// not set public_url (the --public-url flag).
	PublicURL string
}

// Service is the messaging channel of a node.
type Service struct {
	db            *store.DB
	interactions  *interaction.Service
	customers     *customer.Service
	contactPoints *contactpoint.Service
	outbox        *outbox.Service
	log           *slog.Logger
	opts          Options
	now           func() time.Time

	mu     sync.Mutex
	points map[id.ID]cachedPoint
}

type cachedPoint struct {
	p   *Point
	err error
	at  time.Time
}

// pointTTL bounds how long a changed secret or setting takes to apply:
// webhooks come in bursts, and each needs the contact point's secrets.
const pointTTL = 5 * time.Second

// New returns the messaging service.
func New(db *store.DB, interactions *interaction.Service, customers *customer.Service, cps *contactpoint.Service, ob *outbox.Service, opts Options) *Service {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Service{db: db, interactions: interactions, customers: customers, contactPoints: cps, outbox: ob,
		log: opts.Log, opts: opts, now: time.Now, points: map[id.ID]cachedPoint{}}
}

// SetPublicURL sets the hub's public address (the server flag).
func (s *Service) SetPublicURL(u string) { s.opts.PublicURL = u }

// PublicURL is the base URL the provider calls for a contact point: its
// public_url setting, else the server's, else "" (then the request's own).
func (s *Service) PublicURL(p *Point) string {
	u := p.Settings.PublicURL
	if u == "" {
		u = s.opts.PublicURL
	}
	return strings.TrimRight(u, "/")
}

// Point returns an enabled contact point of the given provider with its
// secrets; errs.ErrNotFound for anything else (a webhook for a contact
// point that does not exist, is disabled or is of another provider).
func (s *Service) Point(ctx context.Context, cpID id.ID, provider string) (*Point, error) {
	p, err := s.point(ctx, cpID)
	if err != nil {
		return nil, err
	}
	if p.Provider != provider {
		return nil, errs.NotFoundf("%s contact point %s", provider, cpID)
	}
	return p, nil
}

// point returns a messaging contact point, from a short-lived cache.
func (s *Service) point(ctx context.Context, cpID id.ID) (*Point, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.points[cpID]
	s.mu.Unlock()
	if !ok || now.Sub(c.at) > pointTTL {
		c = cachedPoint{at: now}
		c.p, c.err = s.load(ctx, cpID)
		if c.err == nil || errors.Is(c.err, errs.ErrNotFound) {
			s.mu.Lock()
			if len(s.points) > 10000 {
				clear(s.points)
			}
			s.points[cpID] = c
			s.mu.Unlock()
		}
	}
	return c.p, c.err
}

func (s *Service) load(ctx context.Context, cpID id.ID) (*Point, error) {
	cp, err := s.contactPoints.Get(ctx, cpID)
	if err != nil {
		return nil, err
	}
	if cp.Disabled {
		return nil, errs.NotFoundf("contact point %s", cpID)
	}
	p := &Point{ContactPoint: cp, Settings: ParseSettings(cp.Settings)}
	p.Provider = ProviderOf(cp.Kind, p.Settings)
	if p.Provider == "" {
		return nil, errs.NotFoundf("messaging contact point %s", cpID)
	}
	if p.Secrets, err = s.contactPoints.Secrets(ctx, cpID); err != nil {
		return nil, err
	}
	return p, nil
}

// Message is one inbound message, whatever its provider.
type Message struct {
	ExternalID string // the provider's message id
	// Identifier names the sender: "phone:+1555…" or "social:telegram:42".
	Identifier  string
	ProfileName string // a name the platform shows; set only on a customer without one
	Text        string
	At          time.Time // zero: now
	Kind        string    // sms or message
	Properties  map[string]any
	// Consent is "opted_out" or "opted_in" for a compliance keyword: the
	// message changes the customer's consent and opens no case.
	Consent string
}

// Result says what became of an inbound message.
type Result struct {
	InteractionID id.ID
	CustomerID    id.ID
	CaseID        id.ID
	Duplicate     bool
}

// Ingest records an inbound message on a contact point, once however often
// the provider delivers it (source "<provider>:<contact point>", the
// provider's id as external id). It returns once it is committed.
func (s *Service) Ingest(ctx context.Context, p *Point, m Message) (*Result, error) {
	kind, value, _ := strings.Cut(m.Identifier, ":")
	in := interaction.Input{
		ContactPointID: p.ID, Kind: m.Kind, Direction: interaction.Inbound, OccurredAt: m.At,
		Content: m.Text, Source: p.Provider + ":" + p.ID.String(), ExternalID: m.ExternalID,
		Identifiers: []customer.RawIdentifier{{Kind: kind, Value: value}},
	}
	if len(in.Content) > 64<<10 {
		in.Content = in.Content[:64<<10]
	}
	if len(m.Properties) > 0 {
		b, err := json.Marshal(m.Properties)
		if err != nil {
			return nil, fmt.Errorf("messaging: properties: %w", err)
		}
		in.Properties = b
	}
	if m.ProfileName != "" {
		if named, err := s.hasName(ctx, m.Identifier); err != nil {
			return nil, err
		} else if !named {
			in.Traits = map[string]any{"name": clip(m.ProfileName, 200)}
		}
	}
	if m.Consent != "" {
		// On the timeline, but no case and no routing: the outcome says
		// what it did.
		in.NoCase, in.Outcome = true, m.Consent
		channel := cases.ConsentChannel(string(p.Kind))
		status, source := m.Consent, in.Source
		in.Then = func(ctx context.Context, tx *store.Tx, r interaction.Recorded) error {
			return s.customers.SetConsent(ctx, tx, r.CustomerID, channel, customer.Consent{Status: status, Source: source})
		}
	}
	out, err := s.interactions.Record(ctx, []interaction.Input{in})
	if err != nil {
		return nil, err
	}
	r := &Result{InteractionID: out[0].ID, CustomerID: out[0].CustomerID, Duplicate: out[0].Duplicate}
	if out[0].CaseID != nil {
		r.CaseID = *out[0].CaseID
	}
	return r, nil
}

// hasName tells whether the customer an identifier names has a name.
func (s *Service) hasName(ctx context.Context, ident string) (bool, error) {
	cs, err := s.customers.FindByIdentifier(ctx, ident)
	var inv *errs.Invalid
	if errors.As(err, &inv) {
		return false, nil // Record refuses it with the field
	}
	if err != nil {
		return false, err
	}
	return len(cs) > 0 && cs[0].Name != "", nil
}

// Status records a delivery status callback: the outbound message the
// provider knows as providerID moves to state (sent, delivered, read,
// failed). Unknown ids are ignored (reported false).
func (s *Service) Status(ctx context.Context, p *Point, providerID, state, errText string) (bool, error) {
	return s.outbox.Track(ctx, p.ID, providerID, state, errText)
}

// withdraw records that the customer may not be messaged on a channel any
// more (the provider said they unsubscribed).
func (s *Service) withdraw(ctx context.Context, customerID id.ID, channel, source string) error {
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return s.customers.SetConsent(ctx, tx, customerID, channel, customer.Consent{Status: "opted_out", Source: source})
	})
}

// lastFrom returns the properties of the customer's latest inbound message
// on a contact point: where a reply goes (the number, page-scoped id or chat
// they wrote from).
func (s *Service) lastFrom(ctx context.Context, customerID, cpID id.ID) (map[string]any, error) {
	var props string
	err := s.db.QueryRow(ctx, `SELECT i.properties FROM interactions i
		WHERE i.customer_id IN (SELECT m.id FROM customers m WHERE m.root_id = (SELECT c.root_id FROM customers c WHERE c.id = ?))
		AND i.contact_point_id = ? AND i.direction = 'inbound' ORDER BY i.occurred_at DESC LIMIT 1`, customerID, cpID).Scan(&props)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return map[string]any{}, nil
		}
		return nil, fmt.Errorf("reading the customer's last message: %w", err)
	}
	out := map[string]any{}
	_ = json.Unmarshal([]byte(props), &out)
	return out, nil
}

// identifier returns the customer's first identifier of a kind whose value
// starts with prefix ("" when none).
func (s *Service) identifier(ctx context.Context, customerID id.ID, kind, prefix string) (string, error) {
	c, err := s.customers.Get(ctx, customerID)
	if err != nil {
		return "", err
	}
	for _, ident := range c.Identifiers {
		if string(ident.Kind) == kind && strings.HasPrefix(ident.Value, prefix) {
			return strings.TrimPrefix(ident.Value, prefix), nil
		}
	}
	return "", nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
