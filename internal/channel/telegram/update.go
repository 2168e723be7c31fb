// Package telegram is the protocol layer of the Telegram Bot API channel: it
// checks the webhook's secret token, parses updates into plain inbound
// messages and sends replies with sendMessage. It only translates; storing,
// consent and routing belong to the domain packages that call it.
package telegram

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// SecretTokenHeader carries the secret_token given to setWebhook.
const SecretTokenHeader = "X-Telegram-Bot-Api-Secret-Token"

// MaxUpdateBytes bounds a webhook body. Telegram posts one update per
// request; a message is at most 4,096 characters of text plus entities and
// the message it replies to, far below 1 MiB.
const MaxUpdateBytes = 1 << 20

// ValidateSecretToken reports whether header (the X-Telegram-Bot-Api-Secret-Token
// value) is the secret we gave setWebhook, compared in constant time. With no
// secret configured nothing is accepted: an unauthenticated webhook URL would
// let anyone post updates as Telegram.
func ValidateSecretToken(secret, header string) bool {
	if secret == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(secret), []byte(header)) == 1
}

// Update kinds that carry a message.
const (
	KindMessage           = "message"
	KindEditedMessage     = "edited_message"
	KindChannelPost       = "channel_post"
	KindEditedChannelPost = "edited_channel_post"
)

// Update is one webhook delivery. Message is nil for the kinds that carry no
// message (callback_query, my_chat_member, poll ...), which the caller
// acknowledges and drops. ID lets the caller drop a redelivered update.
type Update struct {
	ID      int64
	Kind    string
	Message *Inbound
}

// User is the sender of a message.
type User struct {
	ID           int64
	IsBot        bool
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string // IETF tag of the user's Telegram language, a hint for replies
}

// Media is a file attached to a message, fetched later with getFile.
type Media struct {
	Type         string // photo or document
	FileID       string
	FileUniqueID string // stable across bots and time, unlike FileID
	FileName     string
	MimeType     string
	Size         int64
}

// Inbound is a message in a chat with the bot. Telegram numbers messages per
// chat, so ExternalID is "chat:message"; an edit gets ":edit:<unix time>"
// appended so that it is a new interaction rather than a duplicate.
type Inbound struct {
	Kind       string
	ExternalID string
	MessageID  int64
	ChatID     int64
	ChatType   string // private, group, supergroup or channel
	ChatTitle  string
	From       string // the sender's user id, or the chat id for channel posts
	Sender     *User  // nil for channel posts, which have no user
	Text       string // text, or the caption of a photo or document
	Media      []Media
	At         time.Time
	EditedAt   time.Time
	ReplyTo    int64 // message id this one answers, 0 when none
}

type user struct {
	ID           *int64 `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Username     string `json:"username"`
	LanguageCode string `json:"language_code"`
}

type message struct {
	MessageID *int64 `json:"message_id"`
	From      *user  `json:"from"`
	Chat      *struct {
		ID    *int64 `json:"id"`
		Type  string `json:"type"`
		Title string `json:"title"`
	} `json:"chat"`
	Date     int64  `json:"date"`
	EditDate int64  `json:"edit_date"`
	Text     string `json:"text"`
	Caption  string `json:"caption"`
	Photo    []struct {
		FileID       string `json:"file_id"`
		FileUniqueID string `json:"file_unique_id"`
		FileSize     int64  `json:"file_size"`
	} `json:"photo"`
	Document *struct {
		FileID       string `json:"file_id"`
		FileUniqueID string `json:"file_unique_id"`
		FileName     string `json:"file_name"`
		MimeType     string `json:"mime_type"`
		FileSize     int64  `json:"file_size"`
	} `json:"document"`
	ReplyToMessage *struct {
		MessageID int64 `json:"message_id"`
	} `json:"reply_to_message"`
}

// ParseUpdate translates one webhook body. It refuses, naming the field, a
// body over MaxUpdateBytes, malformed JSON, an update without update_id, and
// a message without message_id, chat.id or date.
func ParseUpdate(body []byte) (*Update, error) {
	if len(body) > MaxUpdateBytes {
		return nil, &errs.Invalid{Reason: fmt.Sprintf("update is %d bytes, more than the %d accepted", len(body), MaxUpdateBytes)}
	}
	var fields map[string]json.RawMessage
	if err := decode(body, &fields, ""); err != nil {
		return nil, err
	}
	if fields == nil {
		return nil, &errs.Invalid{Reason: "update must be a JSON object"}
	}
	u := &Update{}
	raw, ok := fields["update_id"]
	if !ok {
		return nil, errs.Invalidf("update_id", "is required")
	}
	var id *int64
	if err := decode(raw, &id, "update_id"); err != nil {
		return nil, err
	}
	if id == nil {
		return nil, errs.Invalidf("update_id", "is required")
	}
	u.ID = *id
	for _, k := range []string{KindMessage, KindEditedMessage, KindChannelPost, KindEditedChannelPost} {
		if raw, ok := fields[k]; ok {
			u.Kind = k
			in, err := parseMessage(raw, k)
			if err != nil {
				return nil, err
			}
			u.Message = in
			return u, nil
		}
	}
	// Name the other kind, for logs; an update has exactly one besides update_id.
	for k := range fields {
		if k != "update_id" {
			u.Kind = clip(k)
			break
		}
	}
	return u, nil
}

func parseMessage(raw json.RawMessage, kind string) (*Inbound, error) {
	var m message
	if err := decode(raw, &m, kind); err != nil {
		return nil, err
	}
	switch {
	case m.MessageID == nil:
		return nil, errs.Invalidf(kind+".message_id", "is required")
	case m.Chat == nil || m.Chat.ID == nil || *m.Chat.ID == 0:
		return nil, errs.Invalidf(kind+".chat.id", "is required")
	case m.Date <= 0 || m.Date > 1<<40:
		return nil, errs.Invalidf(kind+".date", "must be Unix seconds")
	case m.EditDate < 0 || m.EditDate > 1<<40:
		return nil, errs.Invalidf(kind+".edit_date", "must be Unix seconds")
	}
	in := &Inbound{
		Kind:      kind,
		MessageID: *m.MessageID,
		ChatID:    *m.Chat.ID,
		ChatType:  m.Chat.Type,
		ChatTitle: m.Chat.Title,
		Text:      m.Text,
		At:        time.Unix(m.Date, 0).UTC(),
	}
	in.ExternalID = strconv.FormatInt(in.ChatID, 10) + ":" + strconv.FormatInt(in.MessageID, 10)
	if m.EditDate > 0 {
		in.EditedAt = time.Unix(m.EditDate, 0).UTC()
		in.ExternalID += ":edit:" + strconv.FormatInt(m.EditDate, 10)
	}
	if in.Text == "" {
		in.Text = m.Caption
	}
	if m.From != nil {
		if m.From.ID == nil {
			return nil, errs.Invalidf(kind+".from.id", "is required")
		}
		in.Sender = &User{ID: *m.From.ID, IsBot: m.From.IsBot, FirstName: m.From.FirstName, LastName: m.From.LastName, Username: m.From.Username, LanguageCode: m.From.LanguageCode}
		in.From = strconv.FormatInt(*m.From.ID, 10)
	} else {
		in.From = strconv.FormatInt(in.ChatID, 10)
	}
	if n := len(m.Photo); n > 0 {
		// Telegram lists the sizes of one photo, smallest first: keep the largest.
		p := m.Photo[n-1]
		if p.FileID == "" {
			return nil, errs.Invalidf(fmt.Sprintf("%s.photo[%d].file_id", kind, n-1), "is required")
		}
		in.Media = append(in.Media, Media{Type: "photo", FileID: p.FileID, FileUniqueID: p.FileUniqueID, Size: p.FileSize})
	}
	if d := m.Document; d != nil {
		if d.FileID == "" {
			return nil, errs.Invalidf(kind+".document.file_id", "is required")
		}
		in.Media = append(in.Media, Media{Type: "document", FileID: d.FileID, FileUniqueID: d.FileUniqueID, FileName: d.FileName, MimeType: d.MimeType, Size: d.FileSize})
	}
	if m.ReplyToMessage != nil {
		in.ReplyTo = m.ReplyToMessage.MessageID
	}
	return in, nil
}

// decode is json.Unmarshal with errors that name the field at fault, under prefix.
func decode(body []byte, v any, prefix string) error {
	if !utf8.Valid(body) {
		return errs.Invalidf(prefix, "is not UTF-8")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			f := te.Field
			if prefix != "" && f != "" {
				f = prefix + "." + f
			} else if f == "" {
				f = prefix
			}
			return errs.Invalidf(f, "has the wrong JSON type or is out of range: got %s", te.Value)
		}
		return errs.Invalidf(prefix, "is not valid JSON: %v", err)
	}
	if d.More() {
		return errs.Invalidf(prefix, "has data after the JSON document")
	}
	return nil
}

// clip keeps error messages and names short whatever the input.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return "…"
}
