// Package webchat is the chat widget's channel: the conversations visitors
// start from a web page, their identity (anonymous, a pre-chat form, or a
// signed-in user whose id the site signs), and the translation of their
// messages to and from interactions. It knows nothing of HTTP; the public
// API is internal/web/chat.
//
// A visitor message is an inbound "chat" interaction on the web_chat contact
// point (source "webchat:<contact point>", external id "<conversation>:<the
// widget's message id>", so a retried send is stored once); the interaction
// service puts it on the customer's case and the routing service offers it
// to an agent. An agent's reply is the desk's outbound "chat" interaction on
// that case: the conversation's history is read from the interactions, so a
// reply is never lost when the visitor's connection drops.
package webchat

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/secret"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Staffed tells whether agents are ready for a channel (routing.Service).
type Staffed interface {
	AgentsReady(ctx context.Context, ch engine.Channel) (bool, error)
}

// Service runs the conversations of every web_chat contact point.
type Service struct {
	db           *store.DB
	points       *contactpoint.Service
	customers    *customer.Service
	interactions *interaction.Service
	staffed      Staffed
	bus          bus.Bus
	log          *slog.Logger
	now          func() time.Time
	knowledge    *knowledge.Service // nil: the widget offers no articles

	pointCache *secret.Cache[*Point]

	readyMu    sync.Mutex
	ready      bool
	readyUntil time.Time
}

// NewService returns the web chat service.
func NewService(db *store.DB, points *contactpoint.Service, customers *customer.Service,
	interactions *interaction.Service, staffed Staffed, b bus.Bus, log *slog.Logger) *Service {
	return &Service{db: db, points: points, customers: customers, interactions: interactions, staffed: staffed,
		bus: b, log: log, now: time.Now, pointCache: secret.NewCache[*Point](5 * time.Second)}
}

// Settings are a web_chat contact point's widget settings (its Settings
// JSON; other keys are left alone).
type Settings struct {
	// AllowedOrigins are the web origins ("https://shop.example") whose pages
	// may use the widget; "null" allows pages opened from files. Empty
	// refuses every page.
	AllowedOrigins []string `json:"allowed_origins"`
	// PreChatForm asks for a name and an email before the first message.
	PreChatForm bool `json:"pre_chat_form"`
	// RequireEmail makes the form's email mandatory.
	RequireEmail bool   `json:"require_email"`
	Title        string `json:"title"`
	Greeting     string `json:"greeting"`
}

// Point is a web_chat contact point as the widget sees it.
type Point struct {
	ID       id.ID
	Name     string
	Settings Settings
	secret   string
}

// AllowsOrigin tells whether pages of origin may use the widget.
func (p *Point) AllowsOrigin(origin string) bool {
	if origin == "" {
		return false
	}
	for _, o := range p.Settings.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// Point returns the enabled web_chat contact point cpID. Answers are cached
// for a few seconds: every widget request asks.
func (s *Service) Point(ctx context.Context, cpID id.ID) (*Point, error) {
	key := cpID.String()
	now := s.now()
	if p, ok, fresh := s.pointCache.Get(key, now); fresh {
		if !ok {
			return nil, errs.NotFoundf("web chat %s", cpID)
		}
		return p, nil
	}
	cp, err := s.points.Get(ctx, cpID)
	if err != nil && !errorsIsNotFound(err) {
		return nil, err
	}
	if cp == nil || cp.Disabled || !cp.Kind.HasWidget() {
		s.pointCache.Put(key, nil, false, now)
		return nil, errs.NotFoundf("web chat %s", cpID)
	}
	p := &Point{ID: cp.ID, Name: cp.Name}
	if len(cp.Settings) > 0 {
		// Settings the widget cannot read leave it refusing every origin.
		_ = json.Unmarshal(cp.Settings, &p.Settings)
	}
	if p.Settings.Title == "" {
		p.Settings.Title = cp.Name
	}
	sec, err := s.points.Secrets(ctx, cpID)
	if err != nil {
		return nil, err
	}
	p.secret = sec[contactpoint.WidgetSecretName]
	s.pointCache.Put(key, p, true, now)
	return p, nil
}

// AgentsAvailable tells whether an agent could take a chat now. The answer
// is kept for a few seconds: every widget load and message asks.
func (s *Service) AgentsAvailable(ctx context.Context) bool {
	now := s.now()
	s.readyMu.Lock()
	defer s.readyMu.Unlock()
	if now.Before(s.readyUntil) {
		return s.ready
	}
	ok, err := s.staffed.AgentsReady(ctx, engine.ChannelChat)
	if err != nil {
		s.log.Warn("web chat: asking routing for available agents", "err", err)
		return true // say nothing rather than turn visitors away on a hiccup
	}
	s.ready, s.readyUntil = ok, now.Add(3*time.Second)
	return ok
}

// ForgetAvailability drops the cached answer of AgentsAvailable (tests, and
// after presence changes on this node if a caller wishes).
func (s *Service) ForgetAvailability() {
	s.readyMu.Lock()
	s.readyUntil = time.Time{}
	s.readyMu.Unlock()
}

// Identity is what a visitor says about themselves. UserID counts only with
// a UserHash that the contact point's widget secret confirms.
type Identity struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	UserID   string `json:"user_id"`
	UserHash string `json:"user_hash"`
	// AnswerByEmail: the visitor gave the email to get the answer there (no
	// agent was available), which is consent to be answered by email.
	AnswerByEmail bool `json:"answer_by_email"`
	// VisitorID is the widget's own id of the visitor (see ShowArticle),
	// given when the conversation starts.
	VisitorID string `json:"visitor_id"`
}

// UserHash is hex HMAC-SHA256(userID, secret): what the site's server puts
// on the page of a signed-in user.
func UserHash(userID, widgetSecret string) string {
	m := hmac.New(sha256.New, []byte(widgetSecret))
	m.Write([]byte(userID))
	return hex.EncodeToString(m.Sum(nil))
}

// checkIdentity validates who and normalizes the email.
func (s *Service) checkIdentity(p *Point, who *Identity) error {
	who.Name = strings.TrimSpace(who.Name)
	if len(who.Name) > 200 || !validText(who.Name) {
		return errs.Invalidf("name", "must be at most 200 characters of text")
	}
	who.Email = strings.TrimSpace(who.Email)
	if who.Email != "" {
		n, err := s.customers.NormalizeAll("email", []customer.RawIdentifier{{Kind: "email", Value: who.Email}})
		if err != nil || len(n) != 1 {
			return errs.Invalidf("email", "is not an email address")
		}
		who.Email = n[0].Value
	}
	if who.AnswerByEmail && who.Email == "" {
		return errs.Invalidf("email", "is required to get the answer by email")
	}
	if who.UserID == "" {
		if who.UserHash != "" {
			return errs.Invalidf("user_id", "is required with user_hash")
		}
		return nil
	}
	if len(who.UserID) > 200 || !validText(who.UserID) {
		return errs.Invalidf("user_id", "must be at most 200 characters of text")
	}
	if who.UserHash == "" {
		return errs.Invalidf("user_hash", "is required with user_id: HMAC-SHA256 of user_id with the widget secret, in hex")
	}
	if p.secret == "" {
		return errs.Invalidf("user_hash", "this chat has no widget secret; rotate one to sign in visitors")
	}
	got, err := hex.DecodeString(who.UserHash)
	want := hmac.New(sha256.New, []byte(p.secret))
	want.Write([]byte(who.UserID))
	if err != nil || !hmac.Equal(got, want.Sum(nil)) {
		return errs.Invalidf("user_hash", "does not match user_id")
	}
	return nil
}

// validText refuses invalid UTF-8 and control characters other than line
// breaks and tabs.
func validText(v string) bool {
	return utf8.ValidString(v) && !strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\n' && r != '\r' && r != '\t' || r == 0x7f })
}

func errorsIsNotFound(err error) bool { return errors.Is(err, errs.ErrNotFound) }
