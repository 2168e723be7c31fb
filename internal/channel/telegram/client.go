package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/touchpoint-hub/touchpoint/internal/channel/provider"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// DefaultBaseURL is the Bot API server; a self-hosted telegram-bot-api server
// goes in Client.BaseURL instead.
const DefaultBaseURL = "https://api.telegram.org"

// MaxTextLength is the most characters sendMessage takes in one message.
const MaxTextLength = 4096

const maxResponseBytes = 1 << 20

// Client sends messages as one bot. Build it with NewClient and adjust the
// fields before first use.
type Client struct {
	BaseURL    string
	Token      string // the bot token; it is part of the request path, so errors never show the URL
	HTTPClient *http.Client
}

// NewClient is a client for the bot with the given token.
func NewClient(token string) *Client {
	return &Client{BaseURL: DefaultBaseURL, Token: token, HTTPClient: http.DefaultClient}
}

// SendRequest is one text message to a chat.
type SendRequest struct {
	ChatID           int64
	Text             string
	ReplyToMessageID int64 // 0: not a reply
}

// Sent is the message Telegram created.
type Sent struct {
	MessageID  int64
	ChatID     int64
	ExternalID string // "chat:message", as Inbound.ExternalID
	At         time.Time
}

// SendMessage calls sendMessage. Telegram has no idempotency key: a retry
// after a timeout may deliver the message twice.
func (c *Client) SendMessage(ctx context.Context, req SendRequest) (*Sent, error) {
	if req.ChatID == 0 {
		return nil, errs.Invalidf("chat_id", "is required")
	}
	if req.Text == "" {
		return nil, errs.Invalidf("text", "is required")
	}
	if n := utf8.RuneCountInString(req.Text); n > MaxTextLength {
		return nil, errs.Invalidf("text", "is %d characters, more than the %d Telegram takes", n, MaxTextLength)
	}
	payload := struct {
		ChatID           int64  `json:"chat_id"`
		Text             string `json:"text"`
		ReplyToMessageID int64  `json:"reply_to_message_id,omitempty"`
	}{req.ChatID, req.Text, req.ReplyToMessageID}
	var result struct {
		MessageID int64 `json:"message_id"`
		Date      int64 `json:"date"`
		Chat      struct {
			ID int64 `json:"id"`
		} `json:"chat"`
	}
	if err := c.call(ctx, "sendMessage", payload, &result); err != nil {
		return nil, err
	}
	if result.MessageID == 0 {
		return nil, &Error{Method: "sendMessage", Description: "result has no message_id"}
	}
	s := &Sent{MessageID: result.MessageID, ChatID: result.Chat.ID, At: time.Unix(result.Date, 0).UTC()}
	if s.ChatID == 0 {
		s.ChatID = req.ChatID
	}
	s.ExternalID = strconv.FormatInt(s.ChatID, 10) + ":" + strconv.FormatInt(s.MessageID, 10)
	return s, nil
}

func (c *Client) call(ctx context.Context, method string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("telegram: %s: %w", method, err)
	}
	endpoint := strings.TrimRight(c.BaseURL, "/") + "/bot" + c.Token + "/" + method
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		// The parse error would quote the URL, and with it the token.
		return fmt.Errorf("telegram: %s: invalid base URL or token", method)
	}
	hr.Header.Set("Content-Type", "application/json")
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return &Error{Method: method, Err: provider.TransportError(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return &Error{Method: method, HTTPStatus: resp.StatusCode, Err: provider.TransportError(err)}
	}
	var env struct {
		OK     bool            `json:"ok"`
		Result json.RawMessage `json:"result"`
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 || json.Unmarshal(raw, &env) != nil || !env.OK {
		return ParseError(method, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		// Sent but unreadable: not retryable, as the message went out.
		return &Error{Method: method, HTTPStatus: resp.StatusCode, Description: "result is not a message"}
	}
	return nil
}

// Error is a failed Bot API call: Telegram's answer with ok false, or, with
// Err set, a transport failure.
type Error struct {
	Method          string
	HTTPStatus      int
	Code            int // error_code, usually the HTTP status
	Description     string
	RetryAfter      time.Duration // flood control: wait this long before the next call
	MigrateToChatID int64         // the group became a supergroup with this id: send there instead
	Err             error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("telegram: ")
	b.WriteString(e.Method)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
		return b.String()
	}
	if e.Code != 0 {
		b.WriteString(": error ")
		b.WriteString(strconv.Itoa(e.Code))
	} else if e.HTTPStatus != 0 {
		b.WriteString(": HTTP ")
		b.WriteString(strconv.Itoa(e.HTTPStatus))
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying again later may succeed: flood control
// (429, after RetryAfter), Telegram's server errors and network failures are;
// a bad request, a wrong token, or a user who blocked the bot (403) are not.
// A call the caller canceled is not retried.
func (e *Error) Retryable() bool {
	if e.Err != nil {
		return !errors.Is(e.Err, context.Canceled)
	}
	code := e.Code
	if code == 0 {
		code = e.HTTPStatus
	}
	return code == http.StatusTooManyRequests || code >= 500 || e.RetryAfter > 0
}

// ParseError reads Telegram's {ok: false, error_code, description,
// parameters} answer. A body that is not one leaves only the HTTP status.
func ParseError(method string, status int, body []byte) *Error {
	e := &Error{Method: method, HTTPStatus: status}
	var doc struct {
		ErrorCode   int    `json:"error_code"`
		Description string `json:"description"`
		Parameters  *struct {
			RetryAfter      int64 `json:"retry_after"`
			MigrateToChatID int64 `json:"migrate_to_chat_id"`
		} `json:"parameters"`
	}
	if json.Unmarshal(body, &doc) == nil {
		e.Code, e.Description = doc.ErrorCode, provider.Clip(doc.Description, 500)
		if p := doc.Parameters; p != nil {
			// Bounded: a day is more than flood control ever asks.
			if p.RetryAfter > 0 && p.RetryAfter <= 86400 {
				e.RetryAfter = time.Duration(p.RetryAfter) * time.Second
			}
			e.MigrateToChatID = p.MigrateToChatID
		}
	}
	if e.Description == "" {
		e.Description = http.StatusText(status)
	}
	return e
}
