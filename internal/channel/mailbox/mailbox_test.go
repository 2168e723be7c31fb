package mailbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/channel/email"
	"github.com/touchpoint-hub/touchpoint/internal/channel/mailbox"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/outbox"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "email", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// relay is an in-process SMTP server that keeps what it is sent.
type relay struct {
	mu   sync.Mutex
	msgs [][]byte
	rcpt []string
	fail *smtp.SMTPError // answer DATA with this, when set
}

func (r *relay) NewSession(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }

type relaySession struct{ r *relay }

func (s *relaySession) Reset()                               {}
func (s *relaySession) Logout() error                        { return nil }
func (s *relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	s.r.rcpt = append(s.r.rcpt, to)
	s.r.mu.Unlock()
	return nil
}
func (s *relaySession) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.fail != nil {
		return s.r.fail
	}
	s.r.msgs = append(s.r.msgs, b)
	return nil
}

func (r *relay) got() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.msgs...)
}

func serveSMTP(t testing.TB, be smtp.Backend) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(be)
	srv.Domain = "relay.test"
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// services wires what the email channel needs as internal/app does: the
// outbox linker around the case linker.
type services struct {
	DB            *store.DB
	ContactPoints *contactpoint.Service
	Interactions  *interaction.Service
	Cases         *cases.Service
	Outbox        *outbox.Service
	Mail          *mailbox.Service
}

func newServices(db *store.DB) *services {
	b := bus.NewLocal()
	customers := customer.NewService(db, "US")
	interactions := interaction.NewService(db, customers)
	s := &services{DB: db, ContactPoints: contactpoint.NewService(db), Interactions: interactions,
		Cases: cases.NewService(db, customers, interactions, b, slog.Default())}
	s.Outbox = outbox.New(db, interactions, b, outbox.Options{})
	s.Mail = mailbox.New(db, interactions, s.ContactPoints, mailbox.Options{})
	s.Outbox.Register("email", s.Mail.NewSender(mailbox.Local{}))
	interactions.SetCaseLinker(outbox.Linker{Next: s.Cases, Outbox: s.Outbox})
	return s
}

type env struct {
	s        *services
	cp       id.ID
	receiver string // address of the built-in SMTP receiver
	relay    *relay
}

func createEmailPoint(t testing.TB, s *services) id.ID {
	t.Helper()
	kind, name := contactpoint.Kind("email"), "Support"
	settings := json.RawMessage(`{"address": "support@acme.example"}`)
	cp, err := s.ContactPoints.Create(context.Background(), contactpoint.Spec{Kind: &kind, Name: &name, Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	return cp.ID
}

func setup(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	s := newServices(db)
	rl := &relay{}
	raddr := serveSMTP(t, rl)
	host, port, _ := net.SplitHostPort(raddr)
	settings, _ := json.Marshal(map[string]any{"address": "support@acme.example",
		"smtp": map[string]any{"host": host, "port": json.Number(port), "tls": "none", "user": ""}})
	kind, name := contactpoint.Kind("email"), "Acme Support"
	cp, err := s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &kind, Name: &name, Settings: settings,
		Secrets: map[string]string{"smtp_password": "hunter2"}})
	if err != nil {
		t.Fatal(err)
	}
	rcv := s.Mail.NewReceiver("touchpoint.test")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go rcv.Serve(ln)
	t.Cleanup(func() { rcv.Shutdown(context.Background()) })
	return &env{s: s, cp: cp.ID, receiver: ln.Addr().String(), relay: rl}
}

func (e *env) send(t *testing.T, from string, raw []byte) error {
	t.Helper()
	return sendPlain(e.receiver, from, "Support@Acme.example", raw)
}

// sendPlain sends over plain SMTP, as a local mail client would to the
// receiver on 127.0.0.1 (smtp.SendMail insists on STARTTLS).
func sendPlain(addr, from, to string, raw []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SendMail(from, []string{to}, bytes.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}

type row struct {
	id, customer id.ID
	caseID       *int64
	delivery     string
}

func (e *env) interactions(t *testing.T, where string, args ...any) []row {
	t.Helper()
	rows, err := e.s.DB.Query(context.Background(), "SELECT id, customer_id, case_id, delivery_status FROM interactions WHERE "+where+" ORDER BY id", args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.customer, &r.caseID, &r.delivery); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// The whole way: a customer's mail over SMTP opens a case, the desk
// answers, the outbox relays the answer threaded on the customer's mail,
// and the customer's answer to it joins the same case.
func TestEmailRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := setup(t, db)
		gmail := fixture(t, "gmail.eml")
		orig, err := email.Parse(gmail, email.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.send(t, "jane.customer@gmail.example", gmail); err != nil {
			t.Fatalf("sending the customer's mail: %v", err)
		}
		in := e.interactions(t, "source = ?", "email:"+e.cp.String())
		if len(in) != 1 || in[0].caseID == nil {
			t.Fatalf("after the customer's mail: %+v, want one interaction on a case", in)
		}
		caseID := id.ID(*in[0].caseID)
		it, err := e.s.Interactions.Get(ctx, in[0].id)
		if err != nil {
			t.Fatal(err)
		}
		if it.Kind != "email" || it.Direction != "inbound" || !strings.Contains(it.Subject, "Wrong size") || it.Content == "" ||
			it.ExternalID != "mid:"+orig.MessageID {
			t.Errorf("stored as %+v", it)
		}
		var props map[string]any
		_ = json.Unmarshal(it.Properties, &props)
		if props["message_id"] != orig.MessageID || props["email_kind"] != "person" {
			t.Errorf("properties %v", props)
		}

		// The same mail again (a client retrying) is stored once.
		if err := e.send(t, "jane.customer@gmail.example", gmail); err != nil {
			t.Fatal(err)
		}
		if n := len(e.interactions(t, "source = ?", "email:"+e.cp.String())); n != 1 {
			t.Fatalf("a replayed mail made %d interactions, want 1", n)
		}

		// The desk answers; the reply and its delivery row commit together.
		res, err := e.s.Cases.Reply(ctx, cases.Actor{Name: "Alex Agent"}, caseID, cases.Reply{Body: "We are sending the right size today."})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.interactions(t, "id = ?", res.ID); got[0].delivery != "queued" {
			t.Fatalf("the reply is %q, want queued", got[0].delivery)
		}
		if n, err := e.s.Outbox.DispatchOnce(ctx); err != nil || n != 1 {
			t.Fatalf("dispatch: %d, %v", n, err)
		}
		if got := e.interactions(t, "id = ?", res.ID); got[0].delivery != "sent" {
			t.Fatalf("after sending the reply is %q, want sent", got[0].delivery)
		}
		sent := e.relay.got()
		if len(sent) != 1 {
			t.Fatalf("the relay got %d messages, want 1", len(sent))
		}
		reply, err := email.Parse(sent[0], email.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if len(reply.InReplyTo) != 1 || reply.InReplyTo[0] != orig.MessageID {
			t.Errorf("reply In-Reply-To %v, want %s", reply.InReplyTo, orig.MessageID)
		}
		if tok, ok := email.CaseToken(reply.Subject); !ok || tok != caseID.String() {
			t.Errorf("reply subject %q has no token of case %s", reply.Subject, caseID)
		}
		if reply.To[0].Email != "jane.customer@gmail.example" || reply.From.Email != "support@acme.example" ||
			!strings.Contains(reply.From.Name, "Alex Agent") {
			t.Errorf("reply from %v to %v", reply.From, reply.To)
		}
		st, err := e.s.Outbox.Get(ctx, res.ID)
		if err != nil || st.State != "sent" || st.ProviderMessageID != reply.MessageID || st.Recipient != "jane.customer@gmail.example" {
			t.Errorf("delivery %+v, %v", st, err)
		}

		// The customer answers the reply, without the token in the subject:
		// In-Reply-To alone finds the case.
		answer, err := email.Compose(email.Outbound{
			From: email.Address{Name: "Jane Customer", Email: "jane.customer@gmail.example"},
			To:   []email.Address{{Email: "support@acme.example"}}, Subject: "Re: Wrong size delivered",
			InReplyTo: reply.MessageID, References: reply.References, Text: "Thank you!",
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.send(t, "jane.customer@gmail.example", answer); err != nil {
			t.Fatal(err)
		}
		all := e.interactions(t, "source = ?", "email:"+e.cp.String())
		if len(all) != 2 || all[1].caseID == nil || id.ID(*all[1].caseID) != caseID {
			t.Fatalf("the customer's answer: %+v, want it on case %s", all, caseID)
		}
	})
}

// Bounces, auto-replies and list mail are on the timeline but on no case.
func TestAutomaticMailOpensNoCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		for _, f := range []string{"bounce.eml", "autoreply.eml", "list.eml"} {
			if err := e.send(t, "", fixture(t, f)); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
		got := e.interactions(t, "source = ?", "email:"+e.cp.String())
		if len(got) != 3 {
			t.Fatalf("%d interactions, want 3", len(got))
		}
		for _, r := range got {
			if r.caseID != nil {
				t.Errorf("interaction %s is on case %d", r.id, *r.caseID)
			}
		}
		var n int
		if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM cases").Scan(&n); err != nil || n != 0 {
			t.Errorf("%d cases, want none (%v)", n, err)
		}
	})
}

// The receiver refuses unknown recipients and oversized mail with 5xx.
func TestReceiverRefuses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		err := sendPlain(e.receiver, "a@b.example", "nobody@acme.example", fixture(t, "gmail.eml"))
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 550 {
			t.Errorf("unknown recipient: %v, want 550", err)
		}
		c, err := smtp.Dial(e.receiver)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Hello("client.test"); err != nil {
			t.Fatal(err)
		}
		if size, ok := c.MaxMessageSize(); !ok || size != mailbox.DefaultMaxMessage {
			t.Errorf("SIZE %d %v, want %d", size, ok, mailbox.DefaultMaxMessage)
		}
		if err := c.Mail("a@b.example", &smtp.MailOptions{Size: mailbox.DefaultMaxMessage + 1}); !errors.As(err, &se) || se.Code != 552 {
			t.Errorf("too large: %v, want 552", err)
		}
	})
}

// Attachments are stored with the interaction and read back.
func TestAttachmentsStored(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := setup(t, db)
		raw := fixture(t, "apple.eml")
		m, err := email.Parse(raw, email.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Attachments) == 0 {
			t.Skip("the fixture has no attachments")
		}
		res, err := e.s.Mail.Ingest(ctx, e.cp, raw)
		if err != nil {
			t.Fatal(err)
		}
		list, err := e.s.Mail.Attachments(ctx, res.InteractionID)
		if err != nil || len(list) != len(m.Attachments) {
			t.Fatalf("attachments %+v, %v; want %d", list, err, len(m.Attachments))
		}
		a, err := e.s.Mail.Attachment(ctx, list[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Data, m.Attachments[0].Data) || a.ContentType != m.Attachments[0].ContentType || a.CaseID != res.CaseID {
			t.Errorf("attachment %s %q case %s, want %q case %s", a.Filename, a.ContentType, a.CaseID, m.Attachments[0].ContentType, res.CaseID)
		}
	})
}

// A relay that refuses for good marks the reply failed at once; one that
// refuses for now keeps it queued for a later try.
func TestOutboxFailures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := setup(t, db)
		res, err := e.s.Mail.Ingest(ctx, e.cp, fixture(t, "gmail.eml"))
		if err != nil {
			t.Fatal(err)
		}
		e.relay.fail = &smtp.SMTPError{Code: 451, Message: "later"}
		r1, err := e.s.Cases.Reply(ctx, cases.Actor{Name: "Alex"}, res.CaseID, cases.Reply{Body: "one"})
		if err != nil {
			t.Fatal(err)
		}
		e.s.Outbox.DispatchOnce(ctx)
		st, _ := e.s.Outbox.Get(ctx, r1.ID)
		if st.State != "queued" || st.Attempts != 1 || st.NextAttemptAt == nil || st.LastError == "" {
			t.Errorf("after a 451: %+v", st)
		}
		e.relay.fail = &smtp.SMTPError{Code: 550, Message: "no such user"}
		r2, err := e.s.Cases.Reply(ctx, cases.Actor{Name: "Alex"}, res.CaseID, cases.Reply{Body: "two"})
		if err != nil {
			t.Fatal(err)
		}
		e.s.Outbox.DispatchOnce(ctx)
		st, _ = e.s.Outbox.Get(ctx, r2.ID)
		if st.State != "failed" || st.NextAttemptAt != nil {
			t.Errorf("after a 550: %+v", st)
		}
		if got := e.interactions(t, "id = ?", r2.ID); got[0].delivery != "failed" {
			t.Errorf("the interaction says %q, want failed", got[0].delivery)
		}
		_ = time.Second
	})
}
