package meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/touchpoint-hub/touchpoint/internal/channel/provider"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// MaxWebhookBytes bounds a webhook body. Meta batches events (up to 1,000 per
// request) but each is small; 4 MiB holds a full batch of ordinary messages
// and keeps one request from taking much memory.
const MaxWebhookBytes = 4 << 20

// ErrUnsupportedObject is a payload for an object other than page, instagram
// or whatsapp_business_account; the caller should acknowledge and drop it.
var ErrUnsupportedObject = errors.New("meta: unsupported webhook object")

// Object names of the webhook payloads handled here.
const (
	ObjectPage      = "page"
	ObjectInstagram = "instagram"
	ObjectWhatsApp  = "whatsapp_business_account"
)

// Channel is the network a message travelled on.
type Channel string

// The channels of this package.
const (
	ChannelMessenger Channel = "messenger"
	ChannelInstagram Channel = "instagram"
	ChannelWhatsApp  Channel = "whatsapp"
)

// Media is an attachment. Messenger and Instagram give a URL (short-lived,
// on Meta's CDN); WhatsApp gives a media ID to fetch through the Graph API.
type Media struct {
	Type     string // image, video, audio, file/document, sticker, ...
	URL      string
	ID       string
	MimeType string
	Caption  string
	Filename string
}

// Inbound is one message a customer sent. From is the customer's id on the
// channel (page-scoped id, Instagram-scoped id, or WhatsApp id, which is the
// number without "+"); To is the business account that received it (page id,
// Instagram account id, or WhatsApp phone number id, the one to reply from).
type Inbound struct {
	Channel            Channel
	ExternalID         string // message id: mid for Messenger/Instagram, wamid for WhatsApp
	From               string
	To                 string
	Text               string
	Type               string // WhatsApp message type (text, image, button, ...); "" elsewhere
	Media              []Media
	At                 time.Time
	ProfileName        string // WhatsApp only: the sender's profile name
	DisplayPhoneNumber string // WhatsApp only: the business number as shown to customers
	ReplyTo            string // id of the message this one answers, when the customer replied to one
}

// StatusUpdate is a delivery report for a WhatsApp message we sent.
type StatusUpdate struct {
	Channel       Channel
	ExternalID    string // the wamid returned when we sent the message
	Status        string // sent, delivered, read, failed (Meta may add others)
	RecipientID   string
	PhoneNumberID string
	At            time.Time
	Errors        []StatusError
}

// StatusError is one reason a WhatsApp message failed.
type StatusError struct {
	Code    int
	Title   string
	Message string
	Details string
}

// Webhook is what one webhook request carried. Events that are not customer
// messages or WhatsApp statuses (echoes of our own messages, reads,
// deliveries, reactions, postbacks, template updates ...) are counted in
// Ignored and otherwise dropped.
type Webhook struct {
	Object   string
	Messages []Inbound
	Statuses []StatusUpdate
	Ignored  int
}

// payload is the envelope of every object; only the parts read are declared.
type payload struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID        string            `json:"id"`
	Time      int64             `json:"time"`
	Messaging []messagingEvent  `json:"messaging"`
	Standby   []json.RawMessage `json:"standby"`
	Changes   []change          `json:"changes"`
}

type messagingEvent struct {
	Sender *struct {
		ID string `json:"id"`
	} `json:"sender"`
	Recipient *struct {
		ID string `json:"id"`
	} `json:"recipient"`
	Timestamp int64 `json:"timestamp"`
	Message   *struct {
		Mid         string `json:"mid"`
		Text        string `json:"text"`
		IsEcho      bool   `json:"is_echo"`
		IsDeleted   bool   `json:"is_deleted"`
		Attachments []struct {
			Type    string `json:"type"`
			Payload *struct {
				URL string `json:"url"`
			} `json:"payload"`
		} `json:"attachments"`
		ReplyTo *struct {
			Mid string `json:"mid"`
		} `json:"reply_to"`
	} `json:"message"`
}

type change struct {
	Field string `json:"field"`
	Value *struct {
		MessagingProduct string `json:"messaging_product"`
		Metadata         *struct {
			DisplayPhoneNumber string `json:"display_phone_number"`
			PhoneNumberID      string `json:"phone_number_id"`
		} `json:"metadata"`
		Contacts []struct {
			Profile struct {
				Name string `json:"name"`
			} `json:"profile"`
			WaID string `json:"wa_id"`
		} `json:"contacts"`
		Messages []waMessage `json:"messages"`
		Statuses []waStatus  `json:"statuses"`
	} `json:"value"`
}

type waMedia struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

type waMessage struct {
	From      string `json:"from"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text"`
	Image    *waMedia `json:"image"`
	Video    *waMedia `json:"video"`
	Audio    *waMedia `json:"audio"`
	Document *waMedia `json:"document"`
	Sticker  *waMedia `json:"sticker"`
	Button   *struct {
		Text string `json:"text"`
	} `json:"button"`
	Interactive *struct {
		ButtonReply *struct {
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
	Context *struct {
		ID string `json:"id"`
	} `json:"context"`
}

type waStatus struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
	Errors      []struct {
		Code      int    `json:"code"`
		Title     string `json:"title"`
		Message   string `json:"message"`
		ErrorData *struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"errors"`
}

// ParseWebhook translates one webhook body. It refuses, naming the field, a
// body over MaxWebhookBytes, malformed JSON, and a message or status without
// its ids or time; an object it does not handle gives ErrUnsupportedObject.
func ParseWebhook(body []byte) (*Webhook, error) {
	if len(body) > MaxWebhookBytes {
		return nil, &errs.Invalid{Reason: fmt.Sprintf("webhook body is %d bytes, more than the %d accepted", len(body), MaxWebhookBytes)}
	}
	var p payload
	if err := decode(body, &p); err != nil {
		return nil, err
	}
	w := &Webhook{Object: p.Object}
	var err error
	switch p.Object {
	case ObjectPage:
		err = w.messaging(p.Entry, ChannelMessenger)
	case ObjectInstagram:
		err = w.messaging(p.Entry, ChannelInstagram)
	case ObjectWhatsApp:
		err = w.whatsapp(p.Entry)
	case "":
		return nil, errs.Invalidf("object", "is required")
	default:
		return nil, fmt.Errorf("%w %q", ErrUnsupportedObject, clip(p.Object))
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// decode is json.Unmarshal with errors that name the field at fault.
func decode(body []byte, v any) error {
	if !utf8.Valid(body) {
		return &errs.Invalid{Reason: "body is not UTF-8"}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errs.Invalidf(te.Field, "must be a JSON %s in range, got %s", jsonKind(te.Type.Kind().String()), te.Value)
		}
		return &errs.Invalid{Reason: "body is not valid JSON: " + err.Error()}
	}
	if d.More() {
		return &errs.Invalid{Reason: "body has data after the JSON document"}
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	}
	return "number"
}

func (w *Webhook) messaging(entries []entry, ch Channel) error {
	for i, e := range entries {
		// Standby events are for apps that do not own the thread: not ours to answer.
		w.Ignored += len(e.Standby) + len(e.Changes)
		for j, ev := range e.Messaging {
			at := fmt.Sprintf("entry[%d].messaging[%d]", i, j)
			if ev.Message == nil || ev.Message.IsEcho || ev.Message.IsDeleted {
				w.Ignored++
				continue
			}
			m := ev.Message
			in := Inbound{Channel: ch, ExternalID: m.Mid, Text: m.Text}
			if ev.Sender == nil || ev.Sender.ID == "" {
				return errs.Invalidf(at+".sender.id", "is required")
			}
			if ev.Recipient == nil || ev.Recipient.ID == "" {
				return errs.Invalidf(at+".recipient.id", "is required")
			}
			if m.Mid == "" {
				return errs.Invalidf(at+".message.mid", "is required")
			}
			if ev.Timestamp <= 0 {
				return errs.Invalidf(at+".timestamp", "is required")
			}
			in.From, in.To = ev.Sender.ID, ev.Recipient.ID
			in.At = time.UnixMilli(ev.Timestamp).UTC()
			for k, a := range m.Attachments {
				if a.Type == "" {
					return errs.Invalidf(fmt.Sprintf("%s.message.attachments[%d].type", at, k), "is required")
				}
				md := Media{Type: a.Type}
				if a.Payload != nil {
					md.URL = a.Payload.URL
				}
				in.Media = append(in.Media, md)
			}
			if m.ReplyTo != nil {
				in.ReplyTo = m.ReplyTo.Mid
			}
			w.Messages = append(w.Messages, in)
		}
	}
	return nil
}

func (w *Webhook) whatsapp(entries []entry) error {
	for i, e := range entries {
		w.Ignored += len(e.Messaging) + len(e.Standby)
		for j, c := range e.Changes {
			at := fmt.Sprintf("entry[%d].changes[%d]", i, j)
			// Other fields (templates, quality, account updates) are not conversations.
			if c.Field != "messages" || c.Value == nil {
				w.Ignored++
				continue
			}
			v := c.Value
			if len(v.Messages) == 0 && len(v.Statuses) == 0 {
				w.Ignored++
				continue
			}
			if v.Metadata == nil || v.Metadata.PhoneNumberID == "" {
				return errs.Invalidf(at+".value.metadata.phone_number_id", "is required")
			}
			names := map[string]string{}
			for _, ct := range v.Contacts {
				names[ct.WaID] = ct.Profile.Name
			}
			for k, m := range v.Messages {
				in, err := waInbound(m, fmt.Sprintf("%s.value.messages[%d]", at, k))
				if err != nil {
					return err
				}
				in.To = v.Metadata.PhoneNumberID
				in.DisplayPhoneNumber = v.Metadata.DisplayPhoneNumber
				in.ProfileName = names[m.From]
				if in.ProfileName == "" && len(v.Contacts) == 1 {
					in.ProfileName = v.Contacts[0].Profile.Name
				}
				w.Messages = append(w.Messages, in)
			}
			for k, s := range v.Statuses {
				f := fmt.Sprintf("%s.value.statuses[%d]", at, k)
				su := StatusUpdate{Channel: ChannelWhatsApp, ExternalID: s.ID, Status: s.Status, RecipientID: s.RecipientID, PhoneNumberID: v.Metadata.PhoneNumberID}
				if s.ID == "" {
					return errs.Invalidf(f+".id", "is required")
				}
				if s.Status == "" {
					return errs.Invalidf(f+".status", "is required")
				}
				var err error
				if su.At, err = unixSeconds(s.Timestamp, f+".timestamp"); err != nil {
					return err
				}
				for _, e := range s.Errors {
					se := StatusError{Code: e.Code, Title: e.Title, Message: e.Message}
					if e.ErrorData != nil {
						se.Details = e.ErrorData.Details
					}
					su.Errors = append(su.Errors, se)
				}
				w.Statuses = append(w.Statuses, su)
			}
		}
	}
	return nil
}

func waInbound(m waMessage, at string) (Inbound, error) {
	in := Inbound{Channel: ChannelWhatsApp, ExternalID: m.ID, From: m.From, Type: m.Type}
	if m.ID == "" {
		return in, errs.Invalidf(at+".id", "is required")
	}
	if m.From == "" {
		return in, errs.Invalidf(at+".from", "is required")
	}
	if m.Type == "" {
		return in, errs.Invalidf(at+".type", "is required")
	}
	var err error
	if in.At, err = unixSeconds(m.Timestamp, at+".timestamp"); err != nil {
		return in, err
	}
	if m.Context != nil {
		in.ReplyTo = m.Context.ID
	}
	media := func(md *waMedia) error {
		if md == nil || md.ID == "" {
			return errs.Invalidf(at+"."+m.Type+".id", "is required for a %s message", m.Type)
		}
		in.Media = []Media{{Type: m.Type, ID: md.ID, MimeType: md.MimeType, Caption: md.Caption, Filename: md.Filename}}
		in.Text = md.Caption
		return nil
	}
	switch m.Type {
	case "text":
		if m.Text == nil {
			return in, errs.Invalidf(at+".text.body", "is required for a text message")
		}
		in.Text = m.Text.Body
	case "image":
		err = media(m.Image)
	case "video":
		err = media(m.Video)
	case "audio":
		err = media(m.Audio)
	case "document":
		err = media(m.Document)
	case "sticker":
		err = media(m.Sticker)
	case "button":
		if m.Button != nil {
			in.Text = m.Button.Text
		}
	case "interactive":
		if ia := m.Interactive; ia != nil {
			if ia.ButtonReply != nil {
				in.Text = ia.ButtonReply.Title
			} else if ia.ListReply != nil {
				in.Text = ia.ListReply.Title
			}
		}
	}
	// Other types (location, contacts, reaction, order, unsupported ...) pass
	// with their Type and no text: the timeline still shows that they came.
	return in, err
}

// unixSeconds reads WhatsApp's timestamps, decimal seconds in a string.
func unixSeconds(s, field string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	// Bounded so that time arithmetic downstream cannot overflow.
	if err != nil || n <= 0 || n > 1<<40 {
		return time.Time{}, errs.Invalidf(field, "must be Unix seconds as a decimal string, got %q", clip(s))
	}
	return time.Unix(n, 0).UTC(), nil
}

func clip(s string) string { return provider.Clip(s, 40) }
