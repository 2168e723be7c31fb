package webchat

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/secret"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Conversation is one visitor's chat on a contact point.
type Conversation struct {
	ID             id.ID     `json:"id"`
	ContactPointID id.ID     `json:"contact_point_id"`
	CustomerID     id.ID     `json:"-"` // 0 until the first message
	VisitorID      string    `json:"-"` // the widget's visitor id, if it gave one
	UserID         string    `json:"user_id,omitempty"`
	Name           string    `json:"name,omitempty"`
	Email          string    `json:"email,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// Started is a new conversation and the visitor's token, which only its
// starter ever sees (the store keeps its SHA-256).
type Started struct {
	*Conversation
	Token string `json:"token"`
}

// Message is one line of a conversation as the visitor sees it.
type Message struct {
	ID id.ID `json:"id"`
	// ClientID is the widget's own id of a visitor message.
	ClientID string    `json:"client_id,omitempty"`
	From     string    `json:"from"`             // "visitor" or "agent"
	Author   string    `json:"author,omitempty"` // the agent's first name
	Text     string    `json:"text"`
	At       time.Time `json:"at"`
	// Status of an agent message: pending, sent (on the visitor's open
	// stream), delivered (the widget showed it).
	Status string `json:"status,omitempty"`
}

// Limits of the visitor's input.
const (
	MaxText     = 4000 // characters of one message
	maxClientID = 64
	maxHistory  = 300 // messages a history read returns (the latest)
)

// Delivery statuses of agent messages, in order.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
)

// ErrBadToken is the answer to a visitor token that opens no conversation
// of this contact point (expired storage, another site, a guess).
var ErrBadToken = fmt.Errorf("unknown visitor token; start a new conversation: %w", errs.ErrUnauthenticated)

// Topic is the bus topic of a conversation's own events.
func Topic(convID id.ID) string { return "webchat:" + convID.String() }

// source is the interaction source of a contact point's visitor messages.
func source(cpID id.ID) string { return "webchat:" + cpID.String() }

// Start opens a conversation for a visitor.
func (s *Service) Start(ctx context.Context, p *Point, who Identity) (*Started, error) {
	if err := s.checkIdentity(p, &who); err != nil {
		return nil, err
	}
	if p.Settings.PreChatForm && p.Settings.RequireEmail && who.Email == "" && who.UserID == "" {
		return nil, errs.Invalidf("email", "is required")
	}
	if who.VisitorID != "" && !validVisitorID(who.VisitorID) {
		return nil, errs.Invalidf("visitor_id", "must be 16 to %d letters, digits, - or _", maxVisitorIDBytes)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	c := &Conversation{ContactPointID: p.ID, UserID: who.UserID, Name: who.Name, Email: who.Email, VisitorID: who.VisitorID, CreatedAt: now}
	token := secret.New("wct_")
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		c.ID = tx.NewID()
		_, err := tx.Exec(ctx, `INSERT INTO webchat_conversations (id, contact_point_id, token_hash, user_id, name, email, visitor_id,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, p.ID, secret.Hash(token), c.UserID, c.Name, c.Email, c.VisitorID, now.UnixMicro(), now.UnixMicro())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("starting a chat: %w", err)
	}
	return &Started{Conversation: c, Token: token}, nil
}

// Conversation returns the conversation a visitor token opens on p.
func (s *Service) Conversation(ctx context.Context, p *Point, token string) (*Conversation, error) {
	if !strings.HasPrefix(token, "wct_") || len(token) > 100 {
		return nil, ErrBadToken
	}
	var c Conversation
	var cust sql.NullInt64
	var created int64
	err := s.db.QueryRow(ctx, `SELECT id, contact_point_id, customer_id, user_id, name, email, visitor_id, created_at
		FROM webchat_conversations WHERE token_hash = ? AND contact_point_id = ?`, secret.Hash(token), p.ID).
		Scan(&c.ID, &c.ContactPointID, &cust, &c.UserID, &c.Name, &c.Email, &c.VisitorID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	c.CustomerID = id.ID(cust.Int64)
	c.CreatedAt = time.UnixMicro(created).UTC()
	return &c, nil
}

// identifiers say who the visitor is: always the conversation itself (so an
// anonymous visitor is a customer too), and what they told or proved.
func (c *Conversation) identifiers() []customer.RawIdentifier {
	out := []customer.RawIdentifier{{Kind: "anonymous_id", Value: "webchat-" + c.ID.String()}}
	if c.Email != "" {
		out = append(out, customer.RawIdentifier{Kind: "email", Value: c.Email})
	}
	if c.UserID != "" {
		out = append(out, customer.RawIdentifier{Kind: "user_id", Value: c.UserID})
	}
	if c.VisitorID != "" {
		out = append(out, visitorIdentifier(c.VisitorID))
	}
	return out
}

// Sent is what became of a visitor message.
type Sent struct {
	Message   Message `json:"message"`
	Duplicate bool    `json:"duplicate,omitempty"`
}

// Send records a visitor message as an inbound chat interaction. clientID
// is the widget's id of the message: sending it again stores nothing new.
func (s *Service) Send(ctx context.Context, p *Point, c *Conversation, clientID, text string) (*Sent, error) {
	if clientID == "" || len(clientID) > maxClientID || strings.Trim(clientID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return nil, errs.Invalidf("id", "must be 1 to %d letters, digits, - or _", maxClientID)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errs.Invalidf("text", "is required")
	}
	if utf8.RuneCountInString(text) > MaxText || !validText(text) {
		return nil, errs.Invalidf("text", "must be at most %d characters of text", MaxText)
	}
	props, _ := json.Marshal(map[string]any{"webchat_conversation": c.ID})
	in := interaction.Input{
		Identifiers: c.identifiers(), ContactPointID: p.ID, Kind: "chat", Direction: interaction.Inbound,
		Content: text, Source: source(p.ID), ExternalID: c.ID.String() + ":" + clientID, Properties: props,
	}
	if c.CustomerID == 0 && c.Name != "" {
		// The form's name, once: later an agent may have corrected it.
		in.Traits = map[string]any{"name": c.Name}
	}
	ins := []interaction.Input{in}
	res, err := s.interactions.Record(ctx, ins)
	if err != nil {
		return nil, fmt.Errorf("recording a chat message: %w", err)
	}
	r := res[0]
	if err := s.bindCustomer(ctx, c, r.CustomerID); err != nil {
		return nil, err
	}
	return &Sent{
		Message:   Message{ID: r.ID, ClientID: clientID, From: "visitor", Text: text, At: ins[0].OccurredAt},
		Duplicate: r.Duplicate,
	}, nil
}

// bindCustomer remembers the customer a conversation resolved to and tells
// its open streams to follow that customer's events.
func (s *Service) bindCustomer(ctx context.Context, c *Conversation, customerID id.ID) error {
	if c.CustomerID != 0 || customerID == 0 {
		return nil
	}
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE webchat_conversations SET customer_id = ?, updated_at = ? WHERE id = ? AND customer_id IS NULL",
			customerID, s.now().UnixMicro(), c.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("binding a chat to its customer: %w", err)
	}
	c.CustomerID = customerID
	s.changed(ctx, c)
	return nil
}

// changed tells the conversation's open streams to look again.
func (s *Service) changed(ctx context.Context, c *Conversation) {
	if err := s.bus.Publish(ctx, bus.Event{Type: "webchat.changed", Topics: []string{Topic(c.ID)}}); err != nil {
		s.log.Warn("web chat: publishing a change", "conversation", c.ID, "err", err)
	}
}

// Identify adds what the visitor tells later: the form's name and email, a
// sign-in, or the email to be answered at when no agent was available
// (AnswerByEmail, which also records their consent to email). The customer
// learns the new identifiers at once, without a message.
func (s *Service) Identify(ctx context.Context, p *Point, c *Conversation, who Identity) (*Conversation, error) {
	if err := s.checkIdentity(p, &who); err != nil {
		return nil, err
	}
	if who.VisitorID != "" {
		return nil, errs.Invalidf("visitor_id", "is given when the conversation starts")
	}
	if who.UserID != "" && c.UserID != "" && who.UserID != c.UserID {
		return nil, errs.Conflictf("this conversation belongs to another signed-in user; start a new one")
	}
	if who.Name != "" {
		c.Name = who.Name
	}
	if who.Email != "" {
		c.Email = who.Email
	}
	if who.UserID != "" {
		c.UserID = who.UserID
	}
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE webchat_conversations SET name = ?, email = ?, user_id = ?, updated_at = ? WHERE id = ?",
			c.Name, c.Email, c.UserID, s.now().UnixMicro(), c.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("updating a chat's visitor: %w", err)
	}
	in := interaction.Input{Identifiers: c.identifiers(), Source: source(p.ID), IdentifyOnly: true}
	if who.Name != "" {
		in.Traits = map[string]any{"name": who.Name}
	}
	res, err := s.interactions.Record(ctx, []interaction.Input{in})
	if err != nil {
		return nil, fmt.Errorf("identifying a chat visitor: %w", err)
	}
	if err := s.bindCustomer(ctx, c, res[0].CustomerID); err != nil {
		return nil, err
	}
	if who.AnswerByEmail {
		err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return s.customers.SetConsent(ctx, tx, res[0].CustomerID, "email",
				customer.Consent{Status: "opted_in", Source: source(p.ID), UpdatedAt: s.now().UTC()})
		})
		if err != nil {
			return nil, fmt.Errorf("recording consent to email: %w", err)
		}
	}
	return c, nil
}

// Messages returns the conversation's latest messages, oldest first: the
// visitor's own (this conversation's, not those of the customer's other
// conversations) and the agents' chat replies on the cases they are on.
func (s *Service) Messages(ctx context.Context, c *Conversation) ([]Message, error) {
	out := []Message{}
	if c.CustomerID == 0 {
		return out, nil
	}
	_, members, err := s.customers.Members(ctx, c.CustomerID)
	if err != nil {
		return nil, err
	}
	if len(members) > 500 {
		members = members[:500]
	}
	args := []any{c.ContactPointID, c.CreatedAt.UnixMicro()}
	for _, m := range members {
		args = append(args, m)
	}
	rows, err := s.db.Query(ctx, `SELECT id, direction, staff_name, content, occurred_at, source, COALESCE(external_id, ''),
		case_id, delivery_status FROM interactions
		WHERE contact_point_id = ? AND kind = 'chat' AND occurred_at >= ? AND customer_id IN (`+store.Placeholders(len(members))+`)
		ORDER BY occurred_at DESC, id DESC LIMIT `+fmt.Sprint(maxHistory*2), args...)
	if err != nil {
		return nil, fmt.Errorf("reading a chat's history: %w", err)
	}
	defer rows.Close()
	type row struct {
		m      Message
		dir    string
		caseID id.ID
		mine   bool
	}
	var all []row
	cases := map[id.ID]bool{}
	prefix := c.ID.String() + ":"
	for rows.Next() {
		var r row
		var staff, src, ext string
		var at int64
		var caseID sql.NullInt64
		if err := rows.Scan(&r.m.ID, &r.dir, &staff, &r.m.Text, &at, &src, &ext, &caseID, &r.m.Status); err != nil {
			return nil, err
		}
		r.m.At = time.UnixMicro(at).UTC()
		r.caseID = id.ID(caseID.Int64)
		switch r.dir {
		case interaction.Inbound:
			if src != source(c.ContactPointID) || !strings.HasPrefix(ext, prefix) {
				continue
			}
			r.mine = true
			r.m.From, r.m.ClientID, r.m.Status = "visitor", strings.TrimPrefix(ext, prefix), ""
			if r.caseID != 0 {
				cases[r.caseID] = true
			}
		case interaction.Outbound:
			r.m.From = "agent"
			r.m.Author, _, _ = strings.Cut(strings.TrimSpace(staff), " ")
		default:
			continue
		}
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		r := all[i]
		if r.mine || r.caseID != 0 && cases[r.caseID] {
			out = append(out, r.m)
		}
	}
	if len(out) > maxHistory {
		out = out[len(out)-maxHistory:]
	}
	return out, nil
}

// Mark moves agent messages of a conversation (as read by Messages) to a
// later delivery status; it never moves one back.
func (s *Service) Mark(ctx context.Context, msgs []Message, status string) error {
	var before []any
	switch status {
	case StatusSent:
		before = []any{"", "queued", "pending"}
	case StatusDelivered:
		before = []any{"", "queued", "pending", StatusSent}
	default:
		return errs.Invalidf("status", "must be sent or delivered")
	}
	var ids []any
	for _, m := range msgs {
		if m.From == "agent" && m.Status != status && m.Status != StatusDelivered {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	q := `UPDATE interactions SET delivery_status = ? WHERE direction = 'outbound' AND delivery_status IN (` +
		store.Placeholders(len(before)) + `) AND id IN (` + store.Placeholders(len(ids)) + `)`
	args := append(append([]any{status}, before...), ids...)
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, q, args...)
		return err
	})
}

// Topics are the bus topics a conversation's stream follows: its own, and
// its customer's (where the desk's replies are published).
func (s *Service) Topics(ctx context.Context, c *Conversation) ([]string, error) {
	topics := []string{Topic(c.ID)}
	if c.CustomerID == 0 {
		return topics, nil
	}
	root, _, err := s.customers.Members(ctx, c.CustomerID)
	if err != nil {
		return nil, err
	}
	return append(topics, "customer:"+root.String()), nil
}

// Reload refreshes a conversation (its customer may have been bound by a
// request on another connection).
func (s *Service) Reload(ctx context.Context, c *Conversation) (*Conversation, error) {
	var cust sql.NullInt64
	err := s.db.QueryRow(ctx, "SELECT customer_id FROM webchat_conversations WHERE id = ?", c.ID).Scan(&cust)
	if err != nil {
		return nil, err
	}
	n := *c
	n.CustomerID = id.ID(cust.Int64)
	return &n, nil
}

// Concerns tells whether a live event may change what a conversation on
// contact point cpID shows: a change of the conversation, a chat
// interaction on the contact point, or an event whose data was dropped.
func Concerns(e bus.Event, cpID id.ID) bool {
	switch e.Type {
	case "webchat.changed", bus.TypeLagged:
		return true
	case "interaction.created":
		if e.Truncated {
			return true
		}
		var d struct {
			Kind           string `json:"kind"`
			ContactPointID id.ID  `json:"contact_point_id"`
		}
		return json.Unmarshal(e.Data, &d) == nil && d.Kind == "chat" && d.ContactPointID == cpID
	}
	return false
}
