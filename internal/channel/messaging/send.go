package messaging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/channel/meta"
	"github.com/touchpoint-hub/touchpoint/internal/channel/telegram"
	"github.com/touchpoint-hub/touchpoint/internal/channel/twilio"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/outbox"
)

// Sender is the outbox sender of one contact point kind (sms, whatsapp or
// social); it sends through the contact point's provider.
type Sender struct {
	svc  *Service
	kind contactpoint.Kind
}

// NewSender returns the sender of a kind.
func (s *Service) NewSender(kind contactpoint.Kind) *Sender { return &Sender{svc: s, kind: kind} }

// ContactRules implements outbox.RuleBound: unasked messages need consent
// and wait out quiet hours.
func (*Sender) ContactRules() bool { return true }

// Ready implements outbox.Sender: the settings name the provider's account
// and sender.
func (snd *Sender) Ready(settings json.RawMessage) bool {
	st := ParseSettings(settings)
	switch ProviderOf(snd.kind, st) {
	case Twilio:
		return st.AccountSID != "" && (st.From != "" || st.MessagingServiceSID != "")
	case Meta:
		return st.Platform != "whatsapp" || st.PhoneNumberID != ""
	case Telegram:
		return true
	}
	return false
}

// Send implements outbox.Sender.
func (snd *Sender) Send(ctx context.Context, d outbox.Delivery) (outbox.Result, error) {
	p, err := snd.svc.point(ctx, d.ContactPointID)
	if errors.Is(err, errs.ErrNotFound) {
		return outbox.Result{}, outbox.Permanent(err)
	}
	if err != nil {
		return outbox.Result{}, err
	}
	if strings.TrimSpace(d.Interaction.Content) == "" {
		return outbox.Result{}, outbox.Permanent(errors.New("the message is empty"))
	}
	switch p.Provider {
	case Twilio:
		return snd.svc.sendTwilio(ctx, p, d)
	case Meta:
		return snd.svc.sendMeta(ctx, p, d)
	case Telegram:
		return snd.svc.sendTelegram(ctx, p, d)
	}
	return outbox.Result{}, outbox.Permanent(fmt.Errorf("contact point %s has no messaging provider", p.ID))
}

// classify maps a provider's typed error to the outbox's outcome: retried
// when the provider says so (rate limits, 5xx, network), else permanent.
func classify(err error) error {
	var r interface{ Retryable() bool }
	if errors.As(err, &r) && r.Retryable() {
		return err
	}
	return outbox.Permanent(err)
}

// recipient is where a reply goes: what the customer's latest message on
// the contact point came from, else their identifier of the kind.
func (s *Service) recipient(ctx context.Context, d outbox.Delivery, prop, identKind, identPrefix string) (string, error) {
	last, err := s.lastFrom(ctx, d.Interaction.CustomerID, d.ContactPointID)
	if err != nil {
		return "", err
	}
	if v, ok := last[prop].(string); ok && v != "" {
		return v, nil
	}
	if v, ok := last[prop].(float64); ok && v != 0 {
		return strconv.FormatInt(int64(v), 10), nil
	}
	return s.identifier(ctx, d.Interaction.CustomerID, identKind, identPrefix)
}

// twilioText sends body to a phone number through a Twilio contact point.
func (s *Service) twilioText(ctx context.Context, p *Point, to, body string, statusCallback bool) (*twilio.Sent, error) {
	st := p.Settings
	token := p.Secrets["auth_token"]
	if st.AccountSID == "" || token == "" {
		return nil, outbox.Permanent(errors.New("the contact point has no account_sid setting or auth_token secret"))
	}
	c := &twilio.Client{BaseURL: twilio.DefaultBaseURL, AccountSid: st.AccountSID, AuthToken: token, HTTPClient: s.opts.HTTPClient}
	if st.APIBaseURL != "" {
		c.BaseURL = st.APIBaseURL
	}
	req := twilio.SendRequest{Channel: twilio.ChannelSMS, To: to, From: st.From, MessagingServiceSid: st.MessagingServiceSID, Body: body}
	if p.Kind == "whatsapp" || strings.HasPrefix(st.From, "whatsapp:") {
		req.Channel = twilio.ChannelWhatsApp
	}
	if base := s.PublicURL(p); base != "" && statusCallback {
		req.StatusCallback = base + "/hooks/twilio/" + p.ID.String() + "/status"
	}
	return c.Send(ctx, req)
}

// SendText texts body to a phone number (E.164) through the SMS or
// WhatsApp contact point cpID at once, outside the outbox: for messages
// worth nothing a few minutes later and too secret to store, such as the
// kiosk's one-time codes. The caller records that it was sent.
func (s *Service) SendText(ctx context.Context, cpID id.ID, to, body string) error {
	p, err := s.Point(ctx, cpID, Twilio)
	if err != nil {
		return err
	}
	_, err = s.twilioText(ctx, p, to, body, false)
	return err
}

func (s *Service) sendTwilio(ctx context.Context, p *Point, d outbox.Delivery) (outbox.Result, error) {
	to, err := s.recipient(ctx, d, "from", "phone", "")
	if err != nil {
		return outbox.Result{}, err
	}
	if to == "" {
		return outbox.Result{}, outbox.Permanent(errors.New("the customer has no phone number"))
	}
	sent, err := s.twilioText(ctx, p, to, d.Interaction.Content, true)
	if err != nil {
		var te *twilio.Error
		if errors.As(err, &te) && te.OptedOut() {
			// The customer texted STOP somewhere Twilio saw it: keep it.
			if werr := s.withdraw(ctx, d.Interaction.CustomerID, cases.ConsentChannel(string(p.Kind)), "twilio:"+p.ID.String()); werr != nil {
				s.log.Warn("messaging: recording an opt-out", "customer", d.Interaction.CustomerID, "err", werr)
			}
		}
		return outbox.Result{Recipient: to}, classify(err)
	}
	return outbox.Result{Recipient: to, ProviderMessageID: sent.Sid}, nil
}

func (s *Service) sendMeta(ctx context.Context, p *Point, d outbox.Delivery) (outbox.Result, error) {
	st := p.Settings
	token := p.Secrets["access_token"]
	if token == "" {
		return outbox.Result{}, outbox.Permanent(errors.New("the contact point has no access_token secret"))
	}
	c := &meta.Client{BaseURL: meta.DefaultBaseURL, Version: st.GraphVersion, AccessToken: token, HTTPClient: s.opts.HTTPClient}
	if st.APIBaseURL != "" {
		c.BaseURL = st.APIBaseURL
	}
	var to string
	var err error
	var sent *meta.Sent
	if st.Platform == "whatsapp" {
		if to, err = s.recipient(ctx, d, "from", "phone", ""); err != nil {
			return outbox.Result{}, err
		}
		to = strings.TrimPrefix(to, "+") // a wa_id is the number without "+"
		if to == "" {
			return outbox.Result{}, outbox.Permanent(errors.New("the customer has no WhatsApp number"))
		}
		sent, err = c.SendWhatsAppText(ctx, st.PhoneNumberID, to, d.Interaction.Content)
	} else {
		if to, err = s.recipient(ctx, d, "from", "social", st.Platform+":"); err != nil {
			return outbox.Result{}, err
		}
		if to == "" {
			return outbox.Result{}, outbox.Permanent(fmt.Errorf("the customer has no %s id", st.Platform))
		}
		sent, err = c.SendText(ctx, to, d.Interaction.Content)
	}
	if err != nil {
		return outbox.Result{Recipient: to}, classify(err)
	}
	return outbox.Result{Recipient: to, ProviderMessageID: sent.MessageID}, nil
}

func (s *Service) sendTelegram(ctx context.Context, p *Point, d outbox.Delivery) (outbox.Result, error) {
	token := p.Secrets["bot_token"]
	if token == "" {
		return outbox.Result{}, outbox.Permanent(errors.New("the contact point has no bot_token secret"))
	}
	raw, err := s.recipient(ctx, d, "chat_id", "social", "telegram:")
	if err != nil {
		return outbox.Result{}, err
	}
	chat, perr := strconv.ParseInt(raw, 10, 64)
	if perr != nil || chat == 0 {
		return outbox.Result{}, outbox.Permanent(errors.New("the customer has no Telegram chat"))
	}
	c := &telegram.Client{BaseURL: telegram.DefaultBaseURL, Token: token, HTTPClient: s.opts.HTTPClient}
	if p.Settings.APIBaseURL != "" {
		c.BaseURL = p.Settings.APIBaseURL
	}
	sent, err := c.SendMessage(ctx, telegram.SendRequest{ChatID: chat, Text: d.Interaction.Content})
	if err != nil {
		return outbox.Result{Recipient: raw}, classify(err)
	}
	return outbox.Result{Recipient: raw, ProviderMessageID: sent.ExternalID}, nil
}
