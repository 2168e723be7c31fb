// Package mailbox connects email contact points to mail servers: the
// inbound pipeline (Ingest: parse, classify, thread, record), the built-in
// SMTP receiver, IMAP polling, and the outbox Sender that sends desk
// replies over SMTP (or keeps them locally for the demo). The MIME work is
// internal/channel/email's; this package only moves messages and keeps
// their threads and attachments.
package mailbox

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/channel/email"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Limits on what is stored of a message.
const (
	DefaultMaxMessage    = 25 << 20 // raw bytes of one message (the SMTP SIZE)
	DefaultMaxAttachment = 10 << 20 // bytes of one stored attachment; larger ones are listed without data
	maxContent           = 256 << 10
	maxSubject           = 1000
	maxProperties        = 30 << 10 // interaction properties hold at most 32 KiB
)

// ErrRefused wraps what makes a message unacceptable for good (malformed,
// too large, no sender, not an email contact point): a receiver answers it
// with a permanent error; anything else is temporary.
var ErrRefused = errors.New("mailbox: message refused")

func refused(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, a...))
}

// Settings is what an email contact point's settings say about mail.
type Settings struct {
	Address string  `json:"address"` // the mailbox customers write to
	Name    string  `json:"name"`    // display name of replies; the contact point's name when empty
	IMAP    *Server `json:"imap"`
	SMTP    *Server `json:"smtp"`
}

// Server is an IMAP or SMTP server of a contact point. Its password is the
// contact point's secret "imap_password" or "smtp_password".
type Server struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	// TLS is "tls" (implicit), "starttls" or "none" (tests and local relays
	// only); empty means tls.
	TLS  string `json:"tls"`
	User string `json:"user"`
	// IMAP only: the folder to read (INBOX), a folder to move processed
	// mail to (else it is marked \Seen), and the polling interval without
	// IDLE (60 s).
	Mailbox     string `json:"mailbox,omitempty"`
	MoveTo      string `json:"move_to,omitempty"`
	PollSeconds int    `json:"poll_seconds,omitempty"`
}

// ParseSettings reads a contact point's settings.
func ParseSettings(raw json.RawMessage) Settings {
	var s Settings
	_ = json.Unmarshal(raw, &s)
	s.Address = strings.ToLower(strings.TrimSpace(s.Address))
	return s
}

// Options configure a Service; zero fields take the defaults.
type Options struct {
	MaxMessage    int64
	MaxAttachment int64
	Log           *slog.Logger
}

// Service is the email channel of a node.
type Service struct {
	db            *store.DB
	interactions  *interaction.Service
	contactPoints *contactpoint.Service
	log           *slog.Logger
	opts          Options
	now           func() time.Time

	// TLSConfig, when set, is used for TLS to IMAP servers (tests).
	TLSConfig *tls.Config

	mu       sync.Mutex
	byAddr   map[string]id.ID // address → email contact point, for RCPT
	loadedAt time.Time
}

// New returns the email channel service.
func New(db *store.DB, interactions *interaction.Service, cps *contactpoint.Service, opts Options) *Service {
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = DefaultMaxMessage
	}
	if opts.MaxAttachment <= 0 {
		opts.MaxAttachment = DefaultMaxAttachment
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Service{db: db, interactions: interactions, contactPoints: cps, log: opts.Log, opts: opts, now: time.Now}
}

// MaxMessage is the largest raw message taken.
func (s *Service) MaxMessage() int64 { return s.opts.MaxMessage }

// Result says what became of an ingested message.
type Result struct {
	InteractionID id.ID
	CustomerID    id.ID
	CaseID        id.ID // 0 when on no case (automatic mail)
	Duplicate     bool  // stored before (same Message-ID): nothing was added
	Kind          email.Kind
}

// Ingest stores one raw message received for an email contact point. It
// returns once the interaction, its thread row and its attachments are
// committed together; the same message again (a retry, a second poll) is
// stored once. Errors wrapping ErrRefused will never succeed.
func (s *Service) Ingest(ctx context.Context, cpID id.ID, raw []byte) (*Result, error) {
	cp, err := s.contactPoints.Get(ctx, cpID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, refused("no contact point %s", cpID)
	}
	if err != nil {
		return nil, err
	}
	if cp.Kind != "email" || cp.Disabled {
		return nil, refused("contact point %s is not an enabled email contact point", cpID)
	}
	m, err := email.Parse(raw, email.Limits{MaxSize: s.opts.MaxMessage})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	kind := email.Classify(m)
	from := m.From.Email
	if from == "" {
		from = m.Sender.Email
	}
	if from == "" && m.ReturnPath != "" {
		from = m.ReturnPath
	}
	in := interaction.Input{
		ContactPointID: cpID, Kind: "email", Direction: interaction.Inbound,
		Subject: clip(m.Subject, maxSubject), Content: body(m),
		Source: "email:" + cpID.String(), ExternalID: externalID(m, raw),
	}
	if from != "" {
		in.Identifiers = []customer.RawIdentifier{{Kind: "email", Value: from}}
	}
	if kind != email.KindPerson {
		// Kept off cases (no case opened or joined) and out of routing (an
		// outcome says nothing is to be done); still on the timeline.
		in.NoCase = true
		in.Outcome = string(kind)
		// A bounce of our own mail belongs to the customer it was for.
		if cust, ok, err := s.threadCustomer(ctx, m); err != nil {
			return nil, err
		} else if ok {
			in.CustomerID, in.Identifiers = cust, nil
		}
	} else if c, err := s.threadCase(ctx, m); err != nil {
		return nil, err
	} else if c != 0 {
		in.CaseID = &c
	}
	if in.CustomerID == 0 && len(in.Identifiers) == 0 {
		return nil, refused("the message has no sender address")
	}
	in.Properties = properties(m, kind)
	res := &Result{Kind: kind}
	in.Then = func(ctx context.Context, tx *store.Tx, r interaction.Recorded) error {
		return s.store(ctx, tx, m, r)
	}
	out, err := s.interactions.Record(ctx, []interaction.Input{in})
	var inv *errs.Invalid
	if err != nil && in.CaseID != nil && errors.As(err, &inv) && inv.Field == "case_id" {
		// The thread names a case of another customer (someone new joined
		// the conversation): the join rule decides instead.
		in.CaseID = nil
		out, err = s.interactions.Record(ctx, []interaction.Input{in})
	}
	if err != nil {
		if errors.As(err, &inv) || errors.As(err, new(*errs.Batch)) {
			return nil, fmt.Errorf("%w: %w", ErrRefused, err)
		}
		return nil, fmt.Errorf("recording mail: %w", err)
	}
	r := out[0]
	res.InteractionID, res.CustomerID, res.Duplicate = r.ID, r.CustomerID, r.Duplicate
	if r.CaseID != nil {
		res.CaseID = *r.CaseID
	} else if r.Duplicate {
		_ = s.db.QueryRow(ctx, "SELECT COALESCE(case_id, 0) FROM interactions WHERE id = ?", r.ID).Scan(&res.CaseID)
	}
	return res, nil
}

// store writes the message's thread row and attachments in the recording
// transaction.
func (s *Service) store(ctx context.Context, tx *store.Tx, m *email.Message, r interaction.Recorded) error {
	now := s.now().UTC().UnixMicro()
	if m.MessageID != "" {
		var caseID any
		if r.CaseID != 0 {
			caseID = r.CaseID
		}
		_, err := tx.Exec(ctx, `INSERT INTO email_threads (message_id, interaction_id, case_id, contact_point_id, direction, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING`,
			m.MessageID, r.ID, caseID, r.In.ContactPointID, interaction.Inbound, now)
		if err != nil {
			return fmt.Errorf("storing the thread of %s: %w", m.MessageID, err)
		}
	}
	for i, a := range m.Attachments {
		var data any
		if int64(len(a.Data)) <= s.opts.MaxAttachment {
			data = a.Data
		}
		inline := 0
		if a.Inline {
			inline = 1
		}
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		_, err := tx.Exec(ctx, `INSERT INTO email_attachments (id, interaction_id, position, filename, content_type, content_id,
			inline, size, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tx.NewID(), r.ID, i, clip(a.Filename, 255), clip(ct, 255), clip(a.ContentID, 255), inline, a.Size, data, now)
		if err != nil {
			return fmt.Errorf("storing attachment %d: %w", i, err)
		}
	}
	return nil
}

// threadCase finds the case a message continues: a known Message-ID in
// In-Reply-To or References first (newest first), then the case token in
// the subject. Closed cases are not continued (the join rule opens a new
// one); a resolved case reopens.
func (s *Service) threadCase(ctx context.Context, m *email.Message) (id.ID, error) {
	for _, mid := range m.ThreadIDs() {
		var c sql.NullInt64
		err := s.db.QueryRow(ctx, "SELECT case_id FROM email_threads WHERE message_id = ?", mid).Scan(&c)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !c.Valid) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("looking up thread %s: %w", mid, err)
		}
		if ok, err := s.continuable(ctx, id.ID(c.Int64)); err != nil || ok {
			return id.ID(c.Int64), err
		}
	}
	if tok, ok := email.CaseToken(m.Subject); ok {
		var c id.ID
		if _, err := fmt.Sscan(tok, &c); err == nil {
			if ok, err := s.continuable(ctx, c); err != nil || ok {
				return c, err
			}
		}
	}
	return 0, nil
}

func (s *Service) continuable(ctx context.Context, caseID id.ID) (bool, error) {
	var status string
	err := s.db.QueryRow(ctx, "SELECT status FROM cases WHERE id = ?", caseID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil && status != "closed", err
}

// threadCustomer finds the customer of the message an automatic reply or
// bounce answers, also through the message a bounce attaches.
func (s *Service) threadCustomer(ctx context.Context, m *email.Message) (id.ID, bool, error) {
	ids := m.ThreadIDs()
	for _, a := range m.Attachments {
		if a.Message != nil {
			ids = append(ids, a.Message.MessageID)
			ids = append(ids, a.Message.ThreadIDs()...)
		}
	}
	for _, mid := range ids {
		if mid == "" {
			continue
		}
		var cust id.ID
		err := s.db.QueryRow(ctx, `SELECT i.customer_id FROM email_threads t JOIN interactions i ON i.id = t.interaction_id
			WHERE t.message_id = ?`, mid).Scan(&cust)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, false, err
		}
		return cust, true, nil
	}
	return 0, false, nil
}

// externalID makes a message idempotent: its Message-ID, or a hash of the
// raw message when it has none (or one too long to key on).
func externalID(m *email.Message, raw []byte) string {
	if m.MessageID != "" && len(m.MessageID) <= 190 {
		return "mid:" + m.MessageID
	}
	h := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(h[:])
}

// body is what the timeline shows: the new part of the message.
func body(m *email.Message) string {
	t := m.Visible
	if strings.TrimSpace(t) == "" {
		t = m.Text
	}
	return clip(t, maxContent)
}

// properties keep what the desk and replies need of the mail: ids,
// addresses, the sanitized HTML (dropped when it does not fit).
func properties(m *email.Message, kind email.Kind) json.RawMessage {
	p := map[string]any{
		"email_kind": kind, "message_id": m.MessageID, "from": m.From.Email, "from_name": m.From.Name,
		"to": addrs(m.To), "cc": addrs(m.Cc), "attachments": len(m.Attachments),
	}
	if len(m.InReplyTo) > 0 {
		p["in_reply_to"] = m.InReplyTo
	}
	if refs := m.References; len(refs) > 0 {
		if len(refs) > 20 {
			refs = append(refs[:1:1], refs[len(refs)-19:]...)
		}
		p["references"] = refs
	}
	if len(m.ReplyTo) > 0 {
		p["reply_to"] = m.ReplyTo[0].Email
	}
	if !m.Date.IsZero() {
		p["date"] = m.Date
	}
	html := m.VisibleHTML
	if html == "" {
		html = m.HTML
	}
	if html != "" {
		p["html"] = html
	}
	b, _ := json.Marshal(p)
	if len(b) > maxProperties {
		delete(p, "html")
		p["html_omitted"] = true
		b, _ = json.Marshal(p)
	}
	if len(b) > maxProperties {
		delete(p, "references")
		delete(p, "to")
		delete(p, "cc")
		b, _ = json.Marshal(p)
	}
	return b
}

func addrs(l []email.Address) []string {
	out := make([]string, 0, len(l))
	for i, a := range l {
		if i == 20 {
			break
		}
		out = append(out, a.Email)
	}
	return out
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Attachment is a stored attachment with what its permission check needs.
type Attachment struct {
	ID            id.ID
	InteractionID id.ID
	CaseID        id.ID // 0 when the interaction is on no case
	CustomerID    id.ID
	Filename      string
	ContentType   string
	Size          int64
	Data          []byte // nil when it was over the size limit
}

// Attachment reads one attachment.
func (s *Service) Attachment(ctx context.Context, attID id.ID) (*Attachment, error) {
	a := &Attachment{ID: attID}
	var caseID sql.NullInt64
	err := s.db.QueryRow(ctx, `SELECT a.interaction_id, i.case_id, i.customer_id, a.filename, a.content_type, a.size, a.data
		FROM email_attachments a JOIN interactions i ON i.id = a.interaction_id WHERE a.id = ?`, attID).
		Scan(&a.InteractionID, &caseID, &a.CustomerID, &a.Filename, &a.ContentType, &a.Size, &a.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("attachment %s", attID)
	}
	if err != nil {
		return nil, err
	}
	a.CaseID = id.ID(caseID.Int64)
	return a, nil
}

// AttachmentInfo is an attachment listed on an interaction.
type AttachmentInfo struct {
	ID          id.ID  `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Inline      bool   `json:"inline"`
	Stored      bool   `json:"stored"` // false: over the size limit, listed only
}

// Attachments lists the attachments of an interaction.
func (s *Service) Attachments(ctx context.Context, interactionID id.ID) ([]AttachmentInfo, error) {
	rows, err := s.db.Query(ctx, `SELECT id, filename, content_type, size, inline, data IS NOT NULL FROM email_attachments
		WHERE interaction_id = ? ORDER BY position`, interactionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AttachmentInfo{}
	for rows.Next() {
		var a AttachmentInfo
		var inline int
		if err := rows.Scan(&a.ID, &a.Filename, &a.ContentType, &a.Size, &inline, &a.Stored); err != nil {
			return nil, err
		}
		a.Inline = inline != 0
		out = append(out, a)
	}
	return out, rows.Err()
}

// ContactPointFor returns the enabled email contact point whose address is
// addr; the address list is re-read every few seconds.
func (s *Service) ContactPointFor(ctx context.Context, addr string) (id.ID, bool, error) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	s.mu.Lock()
	fresh := s.byAddr != nil && s.now().Sub(s.loadedAt) < 5*time.Second
	cp, ok := s.byAddr[addr]
	s.mu.Unlock()
	if fresh {
		return cp, ok, nil
	}
	list, err := s.emailPoints(ctx)
	if err != nil {
		return 0, false, err
	}
	m := map[string]id.ID{}
	for _, c := range list {
		if a := ParseSettings(c.Settings).Address; a != "" {
			if _, dup := m[a]; !dup {
				m[a] = c.ID
			}
		}
	}
	s.mu.Lock()
	s.byAddr, s.loadedAt = m, s.now()
	s.mu.Unlock()
	cp, ok = m[addr]
	return cp, ok, nil
}

func (s *Service) emailPoints(ctx context.Context) ([]*contactpoint.ContactPoint, error) {
	all, err := s.contactPoints.List(ctx, false)
	if err != nil {
		return nil, err
	}
	var out []*contactpoint.ContactPoint
	for _, c := range all {
		if c.Kind == "email" {
			out = append(out, c)
		}
	}
	return out, nil
}
