package messaging

import (
	"strconv"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/channel/meta"
	"github.com/touchpoint-hub/touchpoint/internal/channel/telegram"
	"github.com/touchpoint-hub/touchpoint/internal/channel/twilio"
	"github.com/touchpoint-hub/touchpoint/internal/outbox"
)

// kindOf is the interaction kind of a message: "sms" for texts, "message"
// for WhatsApp and the social platforms (as cases' replies use).
func kindOf(sms bool) string {
	if sms {
		return "sms"
	}
	return "message"
}

// FromTwilio is the Message of a Twilio inbound webhook. STOP, START and
// their synonyms become consent.
func FromTwilio(in *twilio.Inbound) Message {
	m := Message{
		ExternalID: in.MessageSid, Identifier: "phone:" + in.From, ProfileName: in.ProfileName, Text: in.Body,
		Kind:       kindOf(in.Channel == twilio.ChannelSMS),
		Properties: map[string]any{"from": in.From, "to": in.To, "channel": string(in.Channel)},
	}
	if len(in.Media) > 0 {
		media := make([]map[string]string, 0, len(in.Media))
		for _, md := range in.Media {
			media = append(media, map[string]string{"url": md.URL, "content_type": md.ContentType})
		}
		m.Properties["media"] = media
	}
	if in.ProfileName != "" {
		m.Properties["profile_name"] = in.ProfileName
	}
	switch in.Keyword {
	case twilio.KeywordOptOut:
		m.Consent = "opted_out"
	case twilio.KeywordOptIn:
		m.Consent = "opted_in"
	}
	return m
}

// TwilioState maps a Twilio message status to the outbox's delivery
// state ("" for the in-between ones, which change nothing).
func TwilioState(st twilio.MessageStatus) string {
	switch st {
	case twilio.StatusSent:
		return outbox.Sent
	case twilio.StatusDelivered:
		return outbox.Delivered
	case twilio.StatusRead:
		return outbox.Read
	case twilio.StatusFailed, twilio.StatusUndelivered, twilio.StatusCanceled:
		return outbox.Failed
	}
	return ""
}

// FromMeta is the Message of one message of a Meta webhook.
func FromMeta(in meta.Inbound) Message {
	m := Message{
		ExternalID: in.ExternalID, ProfileName: in.ProfileName, Text: in.Text, At: in.At, Kind: kindOf(false),
		Properties: map[string]any{"from": in.From, "to": in.To, "channel": string(in.Channel)},
	}
	if in.Channel == meta.ChannelWhatsApp {
		// A wa_id is the phone number without "+": the customer's phone.
		m.Identifier = "phone:+" + strings.TrimPrefix(in.From, "+")
	} else {
		m.Identifier = "social:" + string(in.Channel) + ":" + in.From
	}
	if len(in.Media) > 0 {
		media := make([]map[string]string, 0, len(in.Media))
		for _, md := range in.Media {
			media = append(media, map[string]string{"type": md.Type, "url": md.URL, "id": md.ID, "mime_type": md.MimeType, "caption": md.Caption})
		}
		m.Properties["media"] = media
	}
	if in.ProfileName != "" {
		m.Properties["profile_name"] = in.ProfileName
	}
	if in.ReplyTo != "" {
		m.Properties["reply_to"] = in.ReplyTo
	}
	return m
}

// MetaState maps a WhatsApp Cloud status to the outbox's delivery state.
func MetaState(status string) string {
	switch status {
	case "sent":
		return outbox.Sent
	case "delivered":
		return outbox.Delivered
	case "read":
		return outbox.Read
	case "failed":
		return outbox.Failed
	}
	return ""
}

// FromTelegram is the Message of a Telegram update's message; ok is false
// for what is not a customer writing (channel posts, bots, edits — an edit
// is not a new contact).
func FromTelegram(u *telegram.Update) (Message, bool) {
	in := u.Message
	if in == nil || in.Sender == nil || in.Sender.IsBot || u.Kind != telegram.KindMessage {
		return Message{}, false
	}
	name := strings.TrimSpace(in.Sender.FirstName + " " + in.Sender.LastName)
	m := Message{
		ExternalID: in.ExternalID, Identifier: "social:telegram:" + in.From, ProfileName: name, Text: in.Text, At: in.At,
		Kind: kindOf(false),
		Properties: map[string]any{"from": in.From, "chat_id": strconv.FormatInt(in.ChatID, 10), "chat_type": in.ChatType,
			"message_id": in.MessageID, "channel": "telegram"},
	}
	if in.Sender.Username != "" {
		m.Properties["username"] = in.Sender.Username
	}
	if len(in.Media) > 0 {
		media := make([]map[string]any, 0, len(in.Media))
		for _, md := range in.Media {
			media = append(media, map[string]any{"type": md.Type, "file_id": md.FileID, "file_name": md.FileName, "mime_type": md.MimeType, "size": md.Size})
		}
		m.Properties["media"] = media
	}
	return m, true
}
