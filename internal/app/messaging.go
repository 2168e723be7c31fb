package app

import (
	"log/slog"

	"github.com/touchpoint-hub/touchpoint/internal/channel/messaging"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/web/hooks"
	"github.com/touchpoint-hub/touchpoint/internal/web/ratelimit"
)

// wireMessaging builds the SMS, WhatsApp and social channel: its outbox
// senders, and the contact rules (consent, quiet hours) they follow.
func (s *Services) wireMessaging(log *slog.Logger) {
	s.Messaging = messaging.New(s.DB, s.Interactions, s.Customers, s.ContactPoints, s.Outbox, messaging.Options{Log: log})
	for _, kind := range []contactpoint.Kind{"sms", "whatsapp", "social"} {
		s.Outbox.Register(string(kind), s.Messaging.NewSender(kind))
	}
	s.Outbox.UseContactRules(s.Customers, s.Cases.BusinessHours)
}

// hooksHandler serves the providers' webhooks (/hooks/...). The limit is
// per contact point: generous, since one number can get a burst of texts,
// but bounded so that a flood on one cannot starve the node.
func hooksHandler(s *Services, log *slog.Logger) *hooks.Handler {
	return hooks.New(s.Messaging, log, ratelimit.New(5000, 10000))
}
