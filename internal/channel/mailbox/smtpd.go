package mailbox

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// Receiver is the built-in SMTP server: it takes mail for the addresses of
// email contact points and answers 250 only once the message is committed,
// so an accepted message is never lost (a sender retries anything else).
type Receiver struct {
	svc *Service
	srv *smtp.Server
	log *slog.Logger
}

// NewReceiver builds the SMTP receiver; domain is the name it greets with.
func (s *Service) NewReceiver(domain string) *Receiver {
	r := &Receiver{svc: s, log: s.log}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{r: r}, nil
	}))
	srv.Domain = domain
	srv.MaxMessageBytes = s.opts.MaxMessage // announced as SIZE and enforced
	srv.MaxRecipients = 50
	srv.ReadTimeout = 2 * time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)
	r.srv = srv
	return r
}

// Serve accepts connections on ln until Shutdown.
func (r *Receiver) Serve(ln net.Listener) error {
	err := r.srv.Serve(ln)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops taking connections and waits for those open to finish.
func (r *Receiver) Shutdown(ctx context.Context) error { return r.srv.Shutdown(ctx) }

var (
	errNoMailbox = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	errTryLater  = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure storing the message; try again later"}
	errNoRcpt    = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "No valid recipients"}
)

type session struct {
	r    *Receiver
	from string
	rcpt []id.ID
}

func (s *session) Reset()        { s.from, s.rcpt = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if opts != nil && opts.Size > s.r.svc.opts.MaxMessage {
		return smtp.ErrDataTooLarge
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cp, ok, err := s.r.svc.ContactPointFor(ctx, to)
	if err != nil {
		s.r.log.Warn("smtp: looking up a recipient", "rcpt", to, "err", err)
		return errTryLater
	}
	if !ok {
		return errNoMailbox
	}
	for _, c := range s.rcpt {
		if c == cp {
			return nil
		}
	}
	s.rcpt = append(s.rcpt, cp)
	return nil
}

func (s *session) Data(r io.Reader) error {
	if len(s.rcpt) == 0 {
		return errNoRcpt
	}
	body, err := io.ReadAll(r)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se // too large
		}
		return errTryLater
	}
	// As the final delivery server we record the envelope sender: a null
	// one ("<>") is how bounces and auto-replies are told apart.
	raw := make([]byte, 0, len(body)+len(s.from)+20)
	raw = append(raw, "Return-Path: <"+strings.NewReplacer("\r", "", "\n", "").Replace(s.from)+">\r\n"...)
	raw = append(raw, body...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, cp := range s.rcpt {
		res, err := s.r.svc.Ingest(ctx, cp, raw)
		if errors.Is(err, ErrRefused) {
			s.r.log.Info("smtp: message refused", "contact_point", cp, "from", s.from, "err", err)
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message refused: " + firstLine(err.Error())}
		}
		if err != nil {
			s.r.log.Warn("smtp: storing a message", "contact_point", cp, "from", s.from, "err", err)
			return errTryLater
		}
		s.r.log.Info("smtp: message received", "contact_point", cp, "interaction", res.InteractionID, "case", res.CaseID,
			"kind", res.Kind, "duplicate", res.Duplicate)
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return clip(s, 200)
}
