// Package app wires a node together: config → store → services → server,
// and runs it until a signal says stop.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/channel/mailbox"
	"github.com/touchpoint-hub/touchpoint/internal/channel/messaging"
	"github.com/touchpoint-hub/touchpoint/internal/channel/webchat"
	"github.com/touchpoint-hub/touchpoint/internal/config"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/insight"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/kiosk"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/outbox"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/web"
	"github.com/touchpoint-hub/touchpoint/internal/web/api"
	"github.com/touchpoint-hub/touchpoint/internal/web/desk"
	"github.com/touchpoint-hub/touchpoint/internal/web/help"
	kioskweb "github.com/touchpoint-hub/touchpoint/internal/web/kiosk"
	"github.com/touchpoint-hub/touchpoint/internal/web/ratelimit"
	"github.com/touchpoint-hub/touchpoint/internal/webhook"
)

// Services are the domain services of one node.
type Services struct {
	DB            *store.DB
	Access        *access.Service
	ContactPoints *contactpoint.Service
	Customers     *customer.Service
	Interactions  *interaction.Service
	Cases         *cases.Service
	Insight       *insight.Service
	Routing       *routing.Service
	WebChat       *webchat.Service
	Webhooks      *webhook.Service
	Knowledge     *knowledge.Service
	Kiosk         *kiosk.Service
	Outbox        *outbox.Service
	Mail          *mailbox.Service
	Messaging     *messaging.Service
	Bus           bus.Bus
	Log           *slog.Logger
	// Events is the event API's journal; nil when events are stored before
	// they are acknowledged (OpenJournal).
	Events *interaction.Journaled
}

// Open opens the store named by cfg and builds the services on it.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*Services, error) {
	db, err := store.Open(ctx, store.Config{URL: cfg.DB, DataDir: cfg.DataDir, CacheMB: cfg.SQLiteCacheMB, Logger: log})
	if err != nil {
		return nil, err
	}
	var b bus.Bus = bus.NewLocal()
	if cfg.DB != "" {
		// Several nodes share a PostgreSQL store: live events cross them.
		pb, err := bus.NewPostgres(ctx, cfg.DB, log)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("starting the event bus: %w", err)
		}
		b = pb
	}
	s := NewServicesWith(db, cfg.Region, b, log)
	// With PostgreSQL only the node holding the advisory lock routes.
	s.Routing.SetLockURL(cfg.DB)
	s.Webhooks.SetAllowPrivate(cfg.WebhooksAllowPrivate)
	s.Messaging.SetPublicURL(cfg.PublicURL)
	return s, nil
}

// NewServices builds the services on an open store, with an in-process bus.
func NewServices(db *store.DB, region string) *Services {
	return NewServicesWith(db, region, bus.NewLocal(), slog.Default())
}

// NewServicesWith builds the services on an open store and a bus.
func NewServicesWith(db *store.DB, region string, b bus.Bus, log *slog.Logger) *Services {
	customers := customer.NewService(db, region)
	interactions := interaction.NewService(db, customers)
	s := &Services{
		DB:            db,
		Access:        access.NewService(db),
		ContactPoints: contactpoint.NewService(db),
		Customers:     customers,
		Interactions:  interactions,
		Cases:         cases.NewService(db, customers, interactions, b, log),
		Insight:       insight.NewService(db),
		Routing:       routing.NewService(db, b, log, engine.Config{}),
		Webhooks:      webhook.NewService(db, webhook.Options{Log: log}),
		Knowledge:     knowledge.NewService(db, log),
		Bus:           b,
		Log:           log,
	}
	s.Outbox = outbox.New(db, interactions, b, outbox.Options{Log: log})
	s.Mail = mailbox.New(db, interactions, s.ContactPoints, mailbox.Options{Log: log})
	s.Outbox.Register("email", s.Mail.NewSender(mailbox.Local{}))
	s.wireMessaging(log)
	// interaction.created (and case.created of a case a contact opens) are
	// written to the webhook outbox inside the recording transaction; so is
	// the delivery row of a reply (outbox.Linker).
	interactions.SetCaseLinker(outbox.Linker{Next: webhook.Linker{Next: s.Cases, Webhooks: s.Webhooks}, Outbox: s.Outbox})
	s.WebChat = webchat.NewService(db, s.ContactPoints, customers, interactions, s.Routing, b, log)
	s.WebChat.UseKnowledge(s.Knowledge)
	interactions.OnRecorded(s.publishInteractions)
	interactions.OnRecorded(s.Routing.RouteContacts)
	s.Routing.SetCalendars(s.Cases.BusinessHours)
	s.Routing.SetWriteHook(s.Webhooks.RoutingEvents)
	s.Kiosk = kiosk.NewService(db, s.ContactPoints, customers, interactions, s.Cases, s.Routing, s.Knowledge, log)
	// Sign-in codes go out at once through the kiosk's SMS contact point.
	s.Kiosk.SetSender(s.Messaging.SendText)
	return s
}

// OpenJournal starts journaling the event API's batches in dir (see
// interaction.Journaled); what an earlier run acknowledged and did not
// store yet is stored first.
func (s *Services) OpenJournal(ctx context.Context, dir string, log *slog.Logger) error {
	j, err := s.Interactions.OpenJournal(ctx, dir, interaction.JournalOptions{Log: log})
	if err != nil {
		return err
	}
	s.Events = j
	return nil
}

// Close closes the journal, the bus and the store.
func (s *Services) Close() error {
	if s.Events != nil {
		if err := s.Events.Close(); err != nil {
			s.Log.Error("closing the ingest journal", "err", err)
		}
	}
	s.Routing.Close()
	s.Bus.Close()
	return s.DB.Close()
}

// Limits are the request rate limits of a node.
type Limits struct {
	// PerCredential is requests a second per API token or write key (bursts
	// of twice that); 0 means no limit.
	PerCredential float64
}

// Handler builds the HTTP handler of a node over its services.
func (s *Services) Handler(log *slog.Logger, limits Limits) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(s.Webhooks.Collectors()...)
	hooks := hooksHandler(s, log)
	reg.MustRegister(hooks.Collectors()...)
	a := &api.API{Log: log, Access: s.Access, ContactPoints: s.ContactPoints, Customers: s.Customers, Interactions: s.Interactions,
		Cases: s.Cases, Routing: s.Routing, Webhooks: s.Webhooks, Knowledge: s.Knowledge, FailedAuth: ratelimit.New(10, 50)}
	events := eventAPI(s, log)
	if s.Events != nil {
		a.Ingest = s.Events
		reg.MustRegister(journalCollector{s.Events})
	}
	if limits.PerCredential > 0 {
		a.PerCaller = ratelimit.New(limits.PerCredential, 2*limits.PerCredential)
		events.PerKey = ratelimit.New(limits.PerCredential, 2*limits.PerCredential)
	}
	d := &desk.Desk{Log: log, Access: s.Access, Customers: s.Customers, Interactions: s.Interactions, Cases: s.Cases,
		ContactPoints: s.ContactPoints, Insight: s.Insight, Routing: s.Routing, Bus: s.Bus, IsDemo: s.isDemo, Mail: s.Mail,
		Outbox: s.Outbox, Webhooks: s.Webhooks, Knowledge: s.Knowledge}
	k := &kioskweb.Handler{Log: log, Kiosk: s.Kiosk, Knowledge: s.Knowledge, IsDemo: s.isDemo}
	// The help center: public pages; votes and contact forms limited per address.
	hc := help.New(help.Options{Log: log, Knowledge: s.Knowledge, Interactions: s.Interactions, Points: s.ContactPoints,
		Posts: ratelimit.New(0.2, 10)})
	return web.New(log, reg, s.DB.Ping, a, events, d, chatHandler(s, log), hooks, k, hc).Handler()
}

// Serve listens on cfg.Addr until ctx ends, then stops taking new
// connections and lets in-flight requests finish (up to 20 s).
func Serve(ctx context.Context, cfg config.Config, log *slog.Logger, s *Services, onReady func(addr string)) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(log, Limits{PerCredential: cfg.APIRate}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	slaCtx, stopSLA := context.WithCancel(context.Background())
	defer stopSLA()
	go s.Cases.RunSLA(slaCtx, 15*time.Second)
	go s.Routing.RunTicker(slaCtx, 200*time.Millisecond)
	// Webhooks: the dispatcher sends the outbox; Follow writes the case and
	// routing events this node publishes. Both stop with slaCtx (below, after
	// the server has finished its requests); a delivery in flight then is
	// sent again once its claim expires.
	var hooks sync.WaitGroup
	hooks.Add(2)
	go func() { defer hooks.Done(); s.Webhooks.Run(slaCtx, time.Second) }()
	go func() { defer hooks.Done(); s.Webhooks.Follow(slaCtx, s.Bus) }()
	stopMail, err := s.startMail(slaCtx, cfg, log, &hooks)
	if err != nil {
		srv.Close()
		return err
	}
	defer stopMail()
	stopDebug, err := startDebug(cfg.DebugAddr, log)
	if err != nil {
		srv.Close()
		return err
	}
	defer stopDebug()
	if onReady != nil {
		onReady(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	// Let the webhook goroutines record what they have before the store closes.
	stopSLA()
	hooks.Wait()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// isDemo tells whether the store holds the demo (the sign-in page then shows
// the demo logins). The key is the one internal/demo writes.
func (s *Services) isDemo(ctx context.Context) bool {
	var v string
	return s.DB.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'demo.filled'").Scan(&v) == nil
}
