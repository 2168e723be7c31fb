package twilio

import (
	"fmt"
	"github.com/touchpoint-hub/touchpoint/internal/channel/provider"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// MaxWebhookBytes bounds the body of a webhook request that ParseForm reads.
// Twilio's message webhooks are form posts of a few kilobytes (a message body
// of at most 1,600 characters, up to ten media URLs and some metadata); 64 KiB
// leaves room for parameters Twilio adds later without letting anyone make us
// buffer megabytes.
const MaxWebhookBytes = 64 << 10

// MaxMedia is the most media Twilio attaches to one message (MMS and WhatsApp).
const MaxMedia = 10

// Channel is the kind of contact point a Twilio address belongs to.
type Channel string

// Channels Twilio carries for us.
const (
	ChannelSMS      Channel = "sms"
	ChannelWhatsApp Channel = "whatsapp"
)

const whatsappPrefix = "whatsapp:"

// Media is one attachment of an inbound message. The URL is on Twilio's API
// and needs the account's credentials to fetch, unless the account turned
// media authentication off.
type Media struct {
	URL         string
	ContentType string
}

// Inbound is a message a customer sent to one of our numbers. From and To are
// the bare addresses (E.164 numbers, short codes or sender ids) with any
// "whatsapp:" prefix removed; Channel says which network carried it. Twilio
// sends no timestamp with inbound messages: the caller stamps the receipt.
type Inbound struct {
	MessageSid          string // the external id: unique per message, stable across retries
	AccountSid          string
	MessagingServiceSid string
	Channel             Channel
	From                string
	To                  string
	Body                string
	Media               []Media
	ProfileName         string  // WhatsApp profile name, when Twilio has it
	WaID                string  // WhatsApp id of the sender (their number without "+")
	Keyword             Keyword // compliance keyword, when the whole body is one
}

// ParseForm reads a form-encoded webhook body of at most MaxWebhookBytes.
func ParseForm(body []byte) (url.Values, error) {
	if len(body) > MaxWebhookBytes {
		return nil, &errs.Invalid{Reason: fmt.Sprintf("webhook body is %d bytes, more than the %d accepted", len(body), MaxWebhookBytes)}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &errs.Invalid{Reason: "webhook body is not form-encoded: " + err.Error()}
	}
	return form, nil
}

// ParseInbound translates the parameters of Twilio's incoming-message webhook.
// It refuses, naming the parameter, a message without MessageSid, AccountSid,
// From or To, a NumMedia that is not 0 to MaxMedia, and a missing MediaUrlN.
func ParseInbound(form url.Values) (*Inbound, error) {
	in := &Inbound{
		MessageSid:          form.Get("MessageSid"),
		AccountSid:          form.Get("AccountSid"),
		MessagingServiceSid: form.Get("MessagingServiceSid"),
		Body:                form.Get("Body"),
		ProfileName:         form.Get("ProfileName"),
		WaID:                form.Get("WaId"),
	}
	if in.MessageSid == "" {
		// Old accounts and some integrations still send only the SMS-era name.
		in.MessageSid = form.Get("SmsMessageSid")
	}
	for _, f := range []struct{ name, val string }{
		{"MessageSid", in.MessageSid},
		{"AccountSid", in.AccountSid},
	} {
		if err := checkText(f.name, f.val, true); err != nil {
			return nil, err
		}
	}
	if err := checkText("Body", in.Body, false); err != nil {
		return nil, err
	}
	var err error
	var fromCh, toCh Channel
	if in.From, fromCh, err = address("From", form.Get("From")); err != nil {
		return nil, err
	}
	if in.To, toCh, err = address("To", form.Get("To")); err != nil {
		return nil, err
	}
	if fromCh != toCh {
		return nil, errs.Invalidf("To", "is a %s address but From is a %s one", toCh, fromCh)
	}
	in.Channel = fromCh
	if in.Media, err = media(form); err != nil {
		return nil, err
	}
	in.Keyword = ClassifyKeyword(in.Body)
	return in, nil
}

func media(form url.Values) ([]Media, error) {
	raw := form.Get("NumMedia")
	if raw == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > MaxMedia {
		return nil, errs.Invalidf("NumMedia", "must be a whole number from 0 to %d, got %q", MaxMedia, clip(raw))
	}
	var out []Media
	for i := range n {
		name := "MediaUrl" + strconv.Itoa(i)
		u := form.Get(name)
		if u == "" {
			return nil, errs.Invalidf(name, "is missing although NumMedia is %d", n)
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, errs.Invalidf(name, "is not an http(s) URL")
		}
		out = append(out, Media{URL: u, ContentType: form.Get("MediaContentType" + strconv.Itoa(i))})
	}
	return out, nil
}

// address splits an optional channel prefix off a Twilio address. Only the
// WhatsApp prefix is known here; other prefixes (messenger:, rcs: ...) are
// refused rather than mistaken for phone numbers.
func address(field, v string) (string, Channel, error) {
	if err := checkText(field, v, true); err != nil {
		return "", "", err
	}
	if rest, ok := strings.CutPrefix(v, whatsappPrefix); ok {
		if rest == "" {
			return "", "", errs.Invalidf(field, "has no number after %q", whatsappPrefix)
		}
		return rest, ChannelWhatsApp, nil
	}
	if i := strings.IndexByte(v, ':'); i >= 0 {
		return "", "", errs.Invalidf(field, "has an unsupported channel prefix %q", clip(v[:i+1]))
	}
	return v, ChannelSMS, nil
}

// checkText refuses text that is not UTF-8 (Twilio sends UTF-8) and, when
// required, an empty value.
func checkText(field, v string, required bool) error {
	if required && v == "" {
		return errs.Invalidf(field, "is required")
	}
	if !utf8.ValidString(v) {
		return errs.Invalidf(field, "is not valid UTF-8")
	}
	return nil
}

// clip keeps error messages short whatever the input.
func clip(s string) string { return provider.Clip(s, 40) }

// MessageStatus is the delivery state of a message, as Twilio names it.
type MessageStatus string

// The statuses of Twilio's Message resource.
const (
	StatusAccepted           MessageStatus = "accepted"
	StatusScheduled          MessageStatus = "scheduled"
	StatusCanceled           MessageStatus = "canceled"
	StatusQueued             MessageStatus = "queued"
	StatusSending            MessageStatus = "sending"
	StatusSent               MessageStatus = "sent"
	StatusFailed             MessageStatus = "failed"
	StatusDelivered          MessageStatus = "delivered"
	StatusUndelivered        MessageStatus = "undelivered"
	StatusReceiving          MessageStatus = "receiving"
	StatusReceived           MessageStatus = "received"
	StatusRead               MessageStatus = "read"
	StatusPartiallyDelivered MessageStatus = "partially_delivered"
)

// Valid reports whether s is one of the statuses Twilio documents.
func (s MessageStatus) Valid() bool {
	switch s {
	case StatusAccepted, StatusScheduled, StatusCanceled, StatusQueued, StatusSending,
		StatusSent, StatusFailed, StatusDelivered, StatusUndelivered, StatusReceiving,
		StatusReceived, StatusRead, StatusPartiallyDelivered:
		return true
	}
	return false
}

// Final reports whether no later status is expected, except read, which may
// still follow delivered on WhatsApp.
func (s MessageStatus) Final() bool {
	switch s {
	case StatusCanceled, StatusFailed, StatusDelivered, StatusUndelivered, StatusReceived, StatusRead:
		return true
	}
	return false
}

// StatusCallback is a delivery report for a message we sent.
type StatusCallback struct {
	MessageSid   string
	AccountSid   string
	Status       MessageStatus
	ErrorCode    int // Twilio error code for failed and undelivered; 0 when none
	ErrorMessage string
	Channel      Channel
	From         string
	To           string
}

// ParseStatusCallback translates the parameters of a message status callback.
func ParseStatusCallback(form url.Values) (*StatusCallback, error) {
	sc := &StatusCallback{
		MessageSid:   form.Get("MessageSid"),
		AccountSid:   form.Get("AccountSid"),
		Status:       MessageStatus(form.Get("MessageStatus")),
		ErrorMessage: form.Get("ErrorMessage"),
	}
	if sc.MessageSid == "" {
		sc.MessageSid = form.Get("SmsSid")
	}
	if sc.Status == "" {
		sc.Status = MessageStatus(form.Get("SmsStatus"))
	}
	if err := checkText("MessageSid", sc.MessageSid, true); err != nil {
		return nil, err
	}
	if err := checkText("ErrorMessage", sc.ErrorMessage, false); err != nil {
		return nil, err
	}
	if sc.Status == "" {
		return nil, errs.Invalidf("MessageStatus", "is required")
	}
	if !sc.Status.Valid() {
		return nil, errs.Invalidf("MessageStatus", "unknown status %q", clip(string(sc.Status)))
	}
	if raw := form.Get("ErrorCode"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return nil, errs.Invalidf("ErrorCode", "must be a whole number, got %q", clip(raw))
		}
		sc.ErrorCode = n
	}
	// From and To are informative here: the message is known by its sid.
	if v := form.Get("From"); v != "" {
		from, ch, err := address("From", v)
		if err != nil {
			return nil, err
		}
		sc.From, sc.Channel = from, ch
	}
	if v := form.Get("To"); v != "" {
		to, ch, err := address("To", v)
		if err != nil {
			return nil, err
		}
		sc.To = to
		if sc.Channel == "" {
			sc.Channel = ch
		}
	}
	return sc, nil
}

// Keyword is a compliance keyword of the carriers' messaging rules.
type Keyword string

// The keywords. Twilio itself answers them on SMS long codes and toll-free
// numbers; the hub records them so that consent follows the customer.
const (
	KeywordNone   Keyword = ""
	KeywordOptOut Keyword = "opt_out"
	KeywordOptIn  Keyword = "opt_in"
	KeywordHelp   Keyword = "help"
)

// ClassifyKeyword says which keyword body is, if the whole message is one,
// ignoring case and surrounding white space ("  stop\n" is an opt-out; "please
// stop" is not).
func ClassifyKeyword(body string) Keyword {
	switch strings.ToUpper(strings.TrimSpace(body)) {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT":
		return KeywordOptOut
	case "START", "YES", "UNSTOP":
		return KeywordOptIn
	case "HELP", "INFO":
		return KeywordHelp
	}
	return KeywordNone
}
