// Package kiosk holds the sessions of store kiosks: who stands at the screen
// (nobody until they identify with a one-time code or a loyalty card), and
// what they may do once known — see their cases, bills and orders, ask for a
// copy of a bill, check in to the store's walk-in queue, ask for a callback,
// rate the visit. It speaks no HTTP; internal/web/kiosk does.
//
// A session is a random token held by the kiosk's browser (only its SHA-256
// is stored) that lapses after Idle without a request and ends on reset.
// Every read goes through Session, which refuses a lapsed or ended token, so
// a reset kiosk can never show the previous customer again.
package kiosk

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/secret"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Limits of sign-in codes.
const (
	CodeTTL     = 5 * time.Minute
	MaxAttempts = 5
	perPhone    = 3  // codes a phone may receive per limitWindow
	perKiosk    = 20 // codes a kiosk may send per limitWindow
	limitWindow = 15 * time.Minute
	source      = "kiosk"
	DefaultIdle = 60 * time.Second
	codeDigits  = 6
	maxRecent   = 10
)

// Typed failures the web layer shows as such.
var (
	ErrRateLimited = errors.New("too many codes requested; try again in a few minutes")
	ErrCodeExpired = errors.New("the code has expired; ask for a new one")
	ErrCodeWrong   = errors.New("that code is not right")
	ErrLocked      = errors.New("too many wrong tries; ask for a new code")
	ErrNoCode      = errors.New("no code was sent; enter your phone number first")
	ErrNoWalkIns   = errors.New("this store takes no walk-in check-ins here")
	ErrCannotText  = errors.New("this kiosk cannot text codes; please use your loyalty card")
	ErrTextFailed  = errors.New("we could not text your phone just now; try again, or use your loyalty card")
)

// Sender texts body to phone through the SMS contact point smsPoint
// (messaging.Service.SendText).
type Sender func(ctx context.Context, smsPoint id.ID, phone, body string) error

// Service runs kiosk sessions over a store.
type Service struct {
	db            *store.DB
	contactPoints *contactpoint.Service
	customers     *customer.Service
	interactions  *interaction.Service
	cases         *cases.Service
	routing       *routing.Service
	knowledge     *knowledge.Service
	log           *slog.Logger
	sender        Sender
	// Idle is how long a session lives without a request.
	Idle time.Duration
	now  func() time.Time
}

// NewService builds the service.
func NewService(db *store.DB, cps *contactpoint.Service, customers *customer.Service, interactions *interaction.Service,
	cs *cases.Service, r *routing.Service, kb *knowledge.Service, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, contactPoints: cps, customers: customers, interactions: interactions, cases: cs, routing: r, knowledge: kb,
		log: log, Idle: DefaultIdle, now: func() time.Time { return time.Now().UTC() }}
}

// SetSender installs the SMS delivery of codes.
func (s *Service) SetSender(f Sender) { s.sender = f }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Settings are a kiosk contact point's own settings.
type Settings struct {
	// WalkInQueueID is the store's walk-in queue (channel task).
	WalkInQueueID id.ID `json:"walk_in_queue_id,omitempty"`
	// CodeSMSContactPointID is the SMS contact point that texts sign-in
	// codes. Without one the kiosk offers no sign-in by phone (the demo
	// shows codes on the screen instead).
	CodeSMSContactPointID id.ID `json:"code_sms_contact_point_id,omitempty"`
}

// CanText tells whether the kiosk k can text sign-in codes.
func (s *Service) CanText(k *Kiosk) bool {
	return s.sender != nil && k.Settings.CodeSMSContactPointID != 0
}

// Kiosk is a kiosk contact point with its settings.
type Kiosk struct {
	*contactpoint.ContactPoint
	Settings Settings
}

// Kiosk returns an enabled contact point of kind kiosk, else not found.
func (s *Service) Kiosk(ctx context.Context, cpID id.ID) (*Kiosk, error) {
	cp, err := s.contactPoints.Get(ctx, cpID)
	if err != nil {
		return nil, err
	}
	if cp.Kind != "kiosk" || cp.Disabled {
		return nil, errs.NotFoundf("kiosk %s", cpID)
	}
	k := &Kiosk{ContactPoint: cp}
	if len(cp.Settings) > 0 {
		if err := json.Unmarshal(cp.Settings, &k.Settings); err != nil {
			s.log.Warn("kiosk settings unreadable", "contact_point", cpID, "err", err)
		}
	}
	return k, nil
}

// Session is one visitor at one kiosk.
type Session struct {
	ID             id.ID
	ContactPointID id.ID
	CustomerID     id.ID // 0 until identified
	InteractionID  id.ID // the kiosk_session interaction, once identified
	WorkItemID     id.ID // the walk-in check-in, if any
	ExpiresAt      time.Time
}

// Identified tells whether the visitor proved who they are.
func (ss *Session) Identified() bool { return ss.CustomerID != 0 }

// AnonymousID names the visitor before they identify (what they read is
// cited on it).
func (ss *Session) AnonymousID() string { return "kiosk-" + ss.ID.String() }

// Start opens an anonymous session at a kiosk and returns its token.
func (s *Service) Start(ctx context.Context, cpID id.ID) (string, *Session, error) {
	if _, err := s.Kiosk(ctx, cpID); err != nil {
		return "", nil, err
	}
	token := secret.New("tpk_")
	now := s.now()
	ss := &Session{ContactPointID: cpID, ExpiresAt: now.Add(s.Idle)}
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		ss.ID = tx.NewID()
		_, err := tx.Exec(ctx, "INSERT INTO kiosk_sessions (id, contact_point_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			ss.ID, cpID, secret.Hash(token), now.UnixMicro(), ss.ExpiresAt.UnixMicro())
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("starting a kiosk session: %w", err)
	}
	return token, ss, nil
}

// Session returns the live session of a token at a kiosk and extends it by
// Idle; an unknown, ended or lapsed token (or one of another kiosk) is
// errs.ErrUnauthenticated.
func (s *Service) Session(ctx context.Context, cpID id.ID, token string) (*Session, error) {
	if token == "" {
		return nil, errs.ErrUnauthenticated
	}
	now := s.now()
	var ss Session
	var cust, inter, item sql.NullInt64
	var exp int64
	var ended sql.NullInt64
	err := s.db.QueryRow(ctx, "SELECT id, contact_point_id, customer_id, interaction_id, work_item_id, expires_at, ended_at FROM kiosk_sessions WHERE token_hash = ?",
		secret.Hash(token)).Scan(&ss.ID, &ss.ContactPointID, &cust, &inter, &item, &exp, &ended)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("reading a kiosk session: %w", err)
	}
	if ss.ContactPointID != cpID || ended.Valid || now.UnixMicro() >= exp {
		return nil, errs.ErrUnauthenticated
	}
	ss.CustomerID, ss.InteractionID, ss.WorkItemID = id.ID(cust.Int64), id.ID(inter.Int64), id.ID(item.Int64)
	ss.ExpiresAt = now.Add(s.Idle)
	// Extending only when a fair part of the idle time has passed keeps a
	// burst of requests from writing once each.
	if exp-ss.ExpiresAt.UnixMicro() < -int64(s.Idle/6/time.Microsecond) {
		err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE kiosk_sessions SET expires_at = ? WHERE id = ? AND ended_at IS NULL", ss.ExpiresAt.UnixMicro(), ss.ID)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("extending a kiosk session: %w", err)
		}
	} else {
		ss.ExpiresAt = time.UnixMicro(exp).UTC()
	}
	return &ss, nil
}

// End ends a session (the kiosk's reset): its token never works again.
func (s *Service) End(ctx context.Context, cpID id.ID, token string) error {
	if token == "" {
		return nil
	}
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE kiosk_sessions SET ended_at = ? WHERE token_hash = ? AND contact_point_id = ? AND ended_at IS NULL",
			s.now().UnixMicro(), secret.Hash(token), cpID)
		return err
	})
}

// SendCode makes a one-time code for phone and texts it through the
// kiosk's SMS contact point; an outbound sms interaction on the customer's
// timeline records that it went (never the code). With onScreen (the demo,
// which has no SMS provider) the code is not texted: it is returned for the
// screen to show. An unknown phone becomes a new customer: proving the
// phone is proving who they are.
func (s *Service) SendCode(ctx context.Context, ss *Session, rawPhone string, onScreen bool) (string, error) {
	k, err := s.Kiosk(ctx, ss.ContactPointID)
	if err != nil {
		return "", err
	}
	if !onScreen && !s.CanText(k) {
		return "", ErrCannotText
	}
	ident, err := s.customers.Normalizer().Normalize(string(identifier.Phone), rawPhone)
	if err != nil {
		return "", errs.Invalidf("phone", "is not a phone number we can text")
	}
	now := s.now()
	since := now.Add(-limitWindow).UnixMicro()
	var byPhone, byKiosk int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM kiosk_codes WHERE phone = ? AND created_at >= ?", ident.Value, since).Scan(&byPhone); err != nil {
		return "", err
	}
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM kiosk_codes WHERE contact_point_id = ? AND created_at >= ?", ss.ContactPointID, since).Scan(&byKiosk); err != nil {
		return "", err
	}
	if byPhone >= perPhone || byKiosk >= perKiosk {
		return "", ErrRateLimited
	}
	code, err := randomDigits(codeDigits)
	if err != nil {
		return "", err
	}
	salt := secret.New("")
	res, err := s.interactions.Record(ctx, []interaction.Input{{
		Identifiers:    []customer.RawIdentifier{{Kind: string(identifier.Phone), Value: ident.Value}},
		ContactPointID: ss.ContactPointID, Kind: "sms", Direction: interaction.Outbound, OccurredAt: now, NoCase: true,
		Subject: "Kiosk sign-in code", Content: "A one-time sign-in code for the kiosk was sent (valid 5 minutes).",
		Source: source, ExternalID: "code:" + ss.ID.String() + ":" + salt[:16],
	}})
	if err != nil {
		return "", fmt.Errorf("recording the code message: %w", err)
	}
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO kiosk_codes (id, session_id, contact_point_id, phone, customer_id, salt, code_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tx.NewID(), ss.ID, ss.ContactPointID, ident.Value, res[0].CustomerID, salt,
			secret.Hash(salt+code), now.UnixMicro(), now.Add(CodeTTL).UnixMicro())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("storing a kiosk code: %w", err)
	}
	if onScreen {
		return code, nil
	}
	body := fmt.Sprintf("%s is your code to sign in at the %s. It expires in %d minutes.", code, k.Name, int(CodeTTL/time.Minute))
	if err := s.sender(ctx, k.Settings.CodeSMSContactPointID, ident.Value, body); err != nil {
		s.log.Warn("texting a kiosk code failed", "kiosk", k.ID, "err", err)
		return "", ErrTextFailed
	}
	return "", nil
}

func randomDigits(n int) (string, error) {
	var b strings.Builder
	for range n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			return "", err
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String(), nil
}

// Verify checks a code against the session's latest one; the right code
// identifies the session's visitor. Every wrong try counts; the fifth locks
// the code, and a used or expired code never works again.
func (s *Service) Verify(ctx context.Context, ss *Session, code string) (*Session, error) {
	code = strings.TrimSpace(code)
	now := s.now()
	var customerID id.ID
	wrong := false
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var cid, custID id.ID
		var salt, hash string
		var attempts int
		var exp int64
		var used sql.NullInt64
		err := tx.QueryRow(ctx, "SELECT id, customer_id, salt, code_hash, attempts, expires_at, used_at FROM kiosk_codes WHERE session_id = ? ORDER BY id DESC LIMIT 1",
			ss.ID).Scan(&cid, &custID, &salt, &hash, &attempts, &exp, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoCode
		}
		if err != nil {
			return err
		}
		switch {
		case used.Valid:
			return ErrCodeExpired
		case now.UnixMicro() >= exp:
			return ErrCodeExpired
		case attempts >= MaxAttempts:
			return ErrLocked
		}
		if subtle.ConstantTimeCompare([]byte(secret.Hash(salt+code)), []byte(hash)) != 1 {
			if _, err := tx.Exec(ctx, "UPDATE kiosk_codes SET attempts = attempts + 1 WHERE id = ?", cid); err != nil {
				return err
			}
			// The try must count, so the transaction commits.
			wrong = true
			return nil
		}
		customerID = custID
		_, err = tx.Exec(ctx, "UPDATE kiosk_codes SET used_at = ?, attempts = attempts + 1 WHERE id = ? AND used_at IS NULL", now.UnixMicro(), cid)
		return err
	})
	if err != nil {
		return nil, err
	}
	if wrong {
		return nil, ErrCodeWrong
	}
	return s.identify(ctx, ss, customerID, "phone")
}

// IdentifyCard identifies the visitor by a loyalty card number.
func (s *Service) IdentifyCard(ctx context.Context, ss *Session, card string) (*Session, error) {
	ident, err := s.customers.Normalizer().Normalize(string(identifier.LoyaltyCard), card)
	if err != nil {
		return nil, errs.Invalidf("card", "is not a loyalty card number")
	}
	found, err := s.customers.FindByIdentifier(ctx, string(ident.Kind)+":"+ident.Value)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, errs.Invalidf("card", "we do not know that card; ask at the counter")
	}
	return s.identify(ctx, ss, found[0].ID, "loyalty card")
}

// identify ties the session to the customer and records the kiosk session
// on their timeline.
func (s *Service) identify(ctx context.Context, ss *Session, customerID id.ID, how string) (*Session, error) {
	res, err := s.interactions.Record(ctx, []interaction.Input{{
		CustomerID: customerID, ContactPointID: ss.ContactPointID, Kind: "kiosk_session", Direction: interaction.Inbound,
		OccurredAt: s.now(), Summary: "Signed in at the kiosk with " + how + ".",
		Source: source, ExternalID: "session:" + ss.ID.String() + ":" + customerID.String(),
	}})
	if err != nil {
		return nil, fmt.Errorf("recording the kiosk session: %w", err)
	}
	out := *ss
	out.CustomerID, out.InteractionID = res[0].CustomerID, res[0].ID
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE kiosk_sessions SET customer_id = ?, interaction_id = ? WHERE id = ?", out.CustomerID, out.InteractionID, ss.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Overview is what an identified visitor sees.
type Overview struct {
	Customer *customer.Customer
	Open     []*cases.Case
	Recent   []*interaction.Interaction // bills, orders, purchases
}

// Overview reads the identified visitor's open cases and recent bills and orders.
func (s *Service) Overview(ctx context.Context, ss *Session) (*Overview, error) {
	if !ss.Identified() {
		return nil, errs.ErrUnauthenticated
	}
	c, err := s.customers.Get(ctx, ss.CustomerID)
	if err != nil {
		return nil, err
	}
	all, err := s.cases.ForCustomer(ctx, ss.CustomerID)
	if err != nil {
		return nil, err
	}
	ov := &Overview{Customer: c}
	for _, cs := range all {
		if cases.IsOpen(cs.Status) {
			ov.Open = append(ov.Open, cs)
		}
	}
	page, err := s.interactions.Timeline(ctx, ss.CustomerID, interaction.TimelineQuery{Kinds: []string{"bill", "order", "purchase"}, Limit: maxRecent})
	if err != nil {
		return nil, err
	}
	ov.Recent = page.Items
	return ov, nil
}

// RequestBillCopy opens a case asking for a copy of one of the visitor's
// bills; a bill of anyone else is not found.
func (s *Service) RequestBillCopy(ctx context.Context, ss *Session, billID id.ID) (*cases.Case, error) {
	if !ss.Identified() {
		return nil, errs.ErrUnauthenticated
	}
	it, err := s.interactions.Get(ctx, billID)
	if err != nil {
		return nil, err
	}
	_, members, err := s.customers.Members(ctx, ss.CustomerID)
	if err != nil {
		return nil, err
	}
	mine := false
	for _, m := range members {
		mine = mine || m == it.CustomerID
	}
	if !mine || (it.Kind != "bill" && it.Kind != "order" && it.Kind != "purchase") {
		return nil, errs.NotFoundf("bill %s", billID)
	}
	cp := ss.ContactPointID
	subject := "Copy of " + it.Kind + " requested at the kiosk"
	if it.Subject != "" {
		subject += ": " + it.Subject
	}
	return s.cases.Create(ctx, cases.Actor{Name: "Kiosk"}, cases.NewCase{
		CustomerID: ss.CustomerID, Subject: subject, ContactPointID: &cp,
		Note: fmt.Sprintf("The customer asked at the kiosk for a copy of %s %s of %s.", it.Kind, it.ID, it.OccurredAt.Format("2 Jan 2006")),
	})
}

// RequestCallback records an inbound callback request, which routing puts
// in the queue that takes tasks.
func (s *Service) RequestCallback(ctx context.Context, ss *Session) error {
	if !ss.Identified() {
		return errs.ErrUnauthenticated
	}
	_, err := s.interactions.Record(ctx, []interaction.Input{{
		CustomerID: ss.CustomerID, ContactPointID: ss.ContactPointID, Kind: "callback", Direction: interaction.Inbound,
		OccurredAt: s.now(), Summary: "Asked at the kiosk to be called back.",
		Source: source, ExternalID: "callback:" + ss.ID.String(),
	}})
	return err
}

// Rate records the visitor's rating of the visit (1–5), once per session.
func (s *Service) Rate(ctx context.Context, ss *Session, stars int) error {
	if !ss.Identified() {
		return errs.ErrUnauthenticated
	}
	if stars < 1 || stars > 5 {
		return errs.Invalidf("rating", "must be 1 to 5")
	}
	_, err := s.interactions.Record(ctx, []interaction.Input{{
		CustomerID: ss.CustomerID, ContactPointID: ss.ContactPointID, Kind: "survey_answer", Direction: interaction.Inbound,
		OccurredAt: s.now(), Rating: &stars, Subject: "Store visit rating", NoCase: true,
		Source: source, ExternalID: "rating:" + ss.ID.String(),
	}})
	return err
}

// Place is where a checked-in visitor stands in the walk-in queue.
type Place struct {
	ItemID   id.ID
	Position int    // 1 = next; 0 once an agent has them
	State    string // waiting, offered, assigned, completed, abandoned
}

// CheckIn puts the visitor in the store's walk-in queue (a task work item);
// checking in twice keeps the first place.
func (s *Service) CheckIn(ctx context.Context, ss *Session) (*Place, error) {
	if !ss.Identified() {
		return nil, errs.ErrUnauthenticated
	}
	if ss.WorkItemID != 0 {
		return s.Place(ctx, ss)
	}
	k, err := s.Kiosk(ctx, ss.ContactPointID)
	if err != nil {
		return nil, err
	}
	if k.Settings.WalkInQueueID == 0 {
		return nil, ErrNoWalkIns
	}
	item, err := s.routing.Enqueue(ctx, routing.NewItem{QueueID: k.Settings.WalkInQueueID, Channel: engine.ChannelTask,
		CustomerID: ss.CustomerID, InteractionID: ss.InteractionID})
	if err != nil {
		return nil, fmt.Errorf("checking in: %w", err)
	}
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE kiosk_sessions SET work_item_id = ? WHERE id = ?", item.ID, ss.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	ss.WorkItemID = item.ID
	return s.Place(ctx, ss)
}

// Place reads the visitor's place in the walk-in queue (nil if not checked in).
func (s *Service) Place(ctx context.Context, ss *Session) (*Place, error) {
	if !ss.Identified() {
		return nil, errs.ErrUnauthenticated
	}
	if ss.WorkItemID == 0 {
		return nil, nil
	}
	item, err := s.routing.GetItem(ctx, ss.WorkItemID)
	if err != nil {
		return nil, err
	}
	p := &Place{ItemID: item.ID, State: item.State}
	if item.State != routing.StateWaiting {
		return p, nil
	}
	// Ids are time-sortable, so waiting items with a smaller id came first.
	var ahead int
	err = s.db.QueryRow(ctx, "SELECT COUNT(*) FROM work_items WHERE queue_id = ? AND state = 'waiting' AND id < ?", item.QueueID, item.ID).Scan(&ahead)
	if err != nil {
		return nil, err
	}
	p.Position = ahead + 1
	return p, nil
}

// ShowArticle renders a published article the kiosk may show (public or
// kiosk audience; an agents-only one is not found) and records the citation:
// on the kiosk session of an identified visitor, else on a page view of the
// anonymous visitor.
func (s *Service) ShowArticle(ctx context.Context, ss *Session, articleID id.ID) (*knowledge.Rendered, error) {
	rd, err := s.knowledge.RenderArticle(ctx, articleID, knowledge.Kiosk, "")
	if err != nil {
		return nil, err
	}
	on := ss.InteractionID
	if on == 0 {
		res, err := s.interactions.Record(ctx, []interaction.Input{{
			Identifiers:    []customer.RawIdentifier{{Kind: string(identifier.AnonymousID), Value: ss.AnonymousID()}},
			ContactPointID: ss.ContactPointID, Kind: "page_view", Direction: interaction.Passive, OccurredAt: s.now(),
			Subject: rd.Version.Title, Source: source,
			ExternalID: fmt.Sprintf("view:%s:%s:%d", ss.ID, articleID, rd.Version.Version),
		}})
		if err != nil {
			return nil, fmt.Errorf("recording the article view: %w", err)
		}
		on = res[0].ID
	}
	if err := s.knowledge.Cite(ctx, on, rd.Cites); err != nil {
		return nil, fmt.Errorf("citing the article: %w", err)
	}
	return rd, nil
}
