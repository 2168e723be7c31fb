package mailbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/touchpoint-hub/touchpoint/internal/channel/email"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/outbox"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Local is where a node sends the mail of email contact points that name
// no SMTP server (the demo): an SMTP relay without authentication (a
// development mail catcher like Mailpit), else a maildir on disk.
type Local struct {
	Relay   string // host:port
	Maildir string // directory; new/, cur/ and tmp/ are made in it
}

// Sender is the outbox sender of email contact points.
type Sender struct {
	svc   *Service
	local Local
	// TLSConfig, when set, is used for TLS to SMTP servers (tests).
	TLSConfig *tls.Config
}

// NewSender returns the email sender; local may be empty (then only
// contact points with SMTP settings send).
func (s *Service) NewSender(local Local) *Sender { return &Sender{svc: s, local: local} }

// Ready implements outbox.Sender.
func (snd *Sender) Ready(settings json.RawMessage) bool {
	st := ParseSettings(settings)
	if st.Address == "" {
		return false
	}
	return (st.SMTP != nil && st.SMTP.Host != "") || snd.local.Relay != "" || snd.local.Maildir != ""
}

// Send implements outbox.Sender: it composes the reply (agent's name via
// the contact point, threaded on the customer's latest mail on the case,
// the case token in the subject) and hands it over.
func (snd *Sender) Send(ctx context.Context, d outbox.Delivery) (outbox.Result, error) {
	s := snd.svc
	it := d.Interaction
	cp, err := s.contactPoints.Get(ctx, d.ContactPointID)
	if err != nil {
		return outbox.Result{}, err
	}
	st := ParseSettings(cp.Settings)
	if st.Address == "" {
		return outbox.Result{}, outbox.Permanent(errors.New("the contact point has no address in its settings"))
	}
	name := st.Name
	if name == "" {
		name = cp.Name
		if strings.EqualFold(name, st.Address) {
			name = ""
		}
	}
	parent, err := s.replyTarget(ctx, it)
	if err != nil {
		return outbox.Result{}, err
	}
	if parent.to == "" {
		return outbox.Result{}, outbox.Permanent(errors.New("the customer has no email address"))
	}
	_, domain, _ := strings.Cut(st.Address, "@")
	// The same id on every attempt: a retry after a lost answer is the same
	// message to the receiver, and the customer's answer finds its thread.
	msgID := "tp." + it.ID.String() + "@" + domain
	out := email.Outbound{
		From: email.Address{Name: name, Email: st.Address}, AgentName: it.StaffName,
		To: []email.Address{{Email: parent.to}}, Subject: it.Subject, Text: it.Content, MessageID: msgID,
		InReplyTo: parent.messageID, References: parent.references,
	}
	if out.Subject == "" {
		out.Subject = parent.subject
	}
	if out.Subject == "" {
		out.Subject = "Your message"
	}
	if it.CaseID != nil {
		out.CaseID = it.CaseID.String()
	}
	raw, err := email.Compose(out)
	if err != nil {
		return outbox.Result{}, outbox.Permanent(err)
	}
	// The thread row goes in before sending, so that an answer is threaded
	// however quickly it comes.
	err = s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var caseID any
		if it.CaseID != nil {
			caseID = *it.CaseID
		}
		_, err := tx.Exec(ctx, `INSERT INTO email_threads (message_id, interaction_id, case_id, contact_point_id, direction, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING`,
			msgID, it.ID, caseID, d.ContactPointID, interaction.Outbound, s.now().UTC().UnixMicro())
		return err
	})
	if err != nil {
		return outbox.Result{}, fmt.Errorf("storing the thread of the reply: %w", err)
	}
	res := outbox.Result{Recipient: parent.to, ProviderMessageID: msgID}
	switch {
	case st.SMTP != nil && st.SMTP.Host != "":
		secrets, err := s.contactPoints.Secrets(ctx, d.ContactPointID)
		if err != nil {
			return res, err
		}
		return res, snd.sendSMTP(ctx, *st.SMTP, secrets["smtp_password"], st.Address, parent.to, raw)
	case snd.local.Relay != "":
		return res, snd.sendSMTP(ctx, Server{Host: hostOf(snd.local.Relay), Port: portOf(snd.local.Relay), TLS: "none"}, "", st.Address, parent.to, raw)
	case snd.local.Maildir != "":
		return res, writeMaildir(snd.local.Maildir, it.ID, raw)
	}
	return res, outbox.Permanent(errors.New("no SMTP server configured for this contact point"))
}

type replyTo struct {
	to, messageID, subject string
	references             []string
}

// replyTarget finds what the reply answers: the customer's latest email
// on the case (its Reply-To or From, Message-ID and References), else the
// customer's email address on a new thread.
func (s *Service) replyTarget(ctx context.Context, it *interaction.Interaction) (replyTo, error) {
	var r replyTo
	if it.CaseID != nil {
		var props, subject string
		err := s.db.QueryRow(ctx, `SELECT properties, subject FROM interactions WHERE case_id = ? AND kind = 'email'
			AND direction = 'inbound' ORDER BY occurred_at DESC, id DESC LIMIT 1`, *it.CaseID).Scan(&props, &subject)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return r, err
		}
		if err == nil {
			var p struct {
				MessageID  string   `json:"message_id"`
				From       string   `json:"from"`
				ReplyTo    string   `json:"reply_to"`
				References []string `json:"references"`
				InReplyTo  []string `json:"in_reply_to"`
			}
			_ = json.Unmarshal([]byte(props), &p)
			r.to, r.messageID, r.subject = p.From, p.MessageID, subject
			if p.ReplyTo != "" {
				r.to = p.ReplyTo
			}
			r.references = p.References
			if len(r.references) == 0 {
				r.references = p.InReplyTo
			}
		}
	}
	if r.to == "" {
		err := s.db.QueryRow(ctx, `SELECT d.value FROM customers c JOIN customers m ON m.root_id = c.root_id
			JOIN identifiers d ON d.customer_id = m.id WHERE c.id = ? AND d.kind = 'email' ORDER BY d.created_at DESC LIMIT 1`,
			it.CustomerID).Scan(&r.to)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return r, err
		}
	}
	return r, nil
}

// sendSMTP hands raw to an SMTP server. 5xx answers are permanent.
func (snd *Sender) sendSMTP(ctx context.Context, srv Server, password, from, to string, raw []byte) error {
	port := srv.Port
	mode := srv.TLS
	if mode == "" {
		mode = "tls"
	}
	if port == 0 {
		port = map[string]int{"tls": 465, "starttls": 587, "none": 25}[mode]
	}
	addr := net.JoinHostPort(srv.Host, strconv.Itoa(port))
	dl := net.Dialer{Timeout: 30 * time.Second}
	conn, err := dl.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", addr, err)
	}
	if dead, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dead)
	}
	tcfg := snd.TLSConfig
	if tcfg == nil {
		tcfg = &tls.Config{ServerName: srv.Host}
	}
	var c *smtp.Client
	switch mode {
	case "tls":
		c = smtp.NewClient(tls.Client(conn, tcfg))
	case "starttls":
		if c, err = smtp.NewClientStartTLS(conn, tcfg); err != nil {
			conn.Close()
			return fmt.Errorf("starting TLS with %s: %w", addr, err)
		}
	case "none":
		c = smtp.NewClient(conn)
	default:
		conn.Close()
		return outbox.Permanent(fmt.Errorf("unknown TLS mode %q (tls, starttls or none)", mode))
	}
	defer c.Close()
	if srv.User != "" {
		if err := c.Auth(sasl.NewPlainClient("", srv.User, password)); err != nil {
			return smtpErr("authenticating", err)
		}
	}
	if err := c.SendMail(from, []string{to}, bytes.NewReader(raw)); err != nil {
		return smtpErr("sending", err)
	}
	_ = c.Quit()
	return nil
}

func smtpErr(what string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 {
		return outbox.Permanent(fmt.Errorf("%s: %w", what, err))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// writeMaildir delivers raw into dir/new the maildir way (write to tmp,
// then rename), so a mail reader never sees half a message.
func writeMaildir(dir string, interactionID id.ID, raw []byte) error {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	host, _ := os.Hostname()
	host = strings.NewReplacer("/", "_", ":", "_").Replace(host)
	name := fmt.Sprintf("%d.%s.%s.eml", time.Now().UnixNano(), interactionID, host)
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "new", name))
}

func hostOf(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return h
}

func portOf(hostport string) int {
	_, p, _ := net.SplitHostPort(hostport)
	n, _ := strconv.Atoi(p)
	if n == 0 {
		n = 25
	}
	return n
}
