package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/channel/mailbox"
	"github.com/touchpoint-hub/touchpoint/internal/config"
)

// DemoSMTPAddr is where serve --demo receives mail unless told otherwise.
const DemoSMTPAddr = "127.0.0.1:2525"

// startMail starts the email channel of a node: the outbox dispatcher, IMAP
// polling of the contact points that have IMAP settings, and the SMTP
// receiver when an address is configured (or the demo's, if free). The
// returned func stops the receiver, letting open sessions finish.
func (s *Services) startMail(ctx context.Context, cfg config.Config, log *slog.Logger, wg *sync.WaitGroup) (func(), error) {
	if cfg.Demo {
		// Replies of the demo go to a mail catcher, else to a maildir the
		// user can open (README, "Try email").
		local := mailbox.Local{Relay: cfg.DemoSMTPRelay}
		if local.Relay == "" {
			local.Maildir = filepath.Join(cfg.DataDir, "outbound-mail")
		}
		s.Outbox.Register("email", s.Mail.NewSender(local))
		if local.Maildir != "" {
			log.Info("demo: email replies are kept in a maildir", "dir", local.Maildir)
		} else {
			log.Info("demo: email replies are relayed", "relay", local.Relay)
		}
	}
	wg.Add(2)
	go func() { defer wg.Done(); s.Outbox.Run(ctx, time.Second) }()
	go func() { defer wg.Done(); s.Mail.RunIMAP(ctx) }()
	addr := cfg.SMTPAddr
	if addr == "" && cfg.Demo {
		addr = DemoSMTPAddr
	}
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if cfg.SMTPAddr == "" {
			log.Warn("demo: the SMTP receiver's address is taken; no mail receiver", "addr", addr, "err", err)
			return func() {}, nil
		}
		return nil, fmt.Errorf("listening for SMTP on %s: %w", addr, err)
	}
	rcv := s.Mail.NewReceiver("touchpoint")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := rcv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			log.Warn("smtp receiver stopped", "err", err)
		}
	}()
	log.Info("smtp receiver listening", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = rcv.Shutdown(sctx)
		<-done
	}, nil
}
