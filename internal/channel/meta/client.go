package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/touchpoint-hub/touchpoint/internal/channel/provider"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// Graph API defaults. Meta retires each version about two years after its
// release, so the version is configuration, not a constant of the code.
const (
	DefaultBaseURL = "https://graph.facebook.com"
	DefaultVersion = "v23.0"
)

// maxResponseBytes bounds what is read of an API response; a send answer is
// a few hundred bytes.
const maxResponseBytes = 1 << 20

// Client sends messages as one page, Instagram account or WhatsApp business
// with its access token. Build it with NewClient and adjust the fields before
// first use.
type Client struct {
	BaseURL     string
	Version     string
	AccessToken string // page access token (Messenger, Instagram) or system user token (WhatsApp)
	HTTPClient  *http.Client
}

// NewClient is a Graph API client with the default base URL and version.
func NewClient(accessToken string) *Client {
	return &Client{BaseURL: DefaultBaseURL, Version: DefaultVersion, AccessToken: accessToken, HTTPClient: http.DefaultClient}
}

// Sent identifies the message Meta accepted.
type Sent struct {
	MessageID   string // mid or wamid, the ExternalID of later events about it
	RecipientID string // page- or Instagram-scoped id, or WhatsApp id
}

// SendText sends a text reply on Messenger or Instagram to the user with the
// given scoped id, as a response to their message (messaging_type RESPONSE,
// allowed within 24 hours of their last message).
func (c *Client) SendText(ctx context.Context, recipientID, text string) (*Sent, error) {
	if recipientID == "" {
		return nil, errs.Invalidf("recipient.id", "is required")
	}
	if text == "" {
		return nil, errs.Invalidf("message.text", "is required")
	}
	req := map[string]any{
		"recipient":      map[string]string{"id": recipientID},
		"messaging_type": "RESPONSE",
		"message":        map[string]string{"text": text},
	}
	var resp struct {
		RecipientID string `json:"recipient_id"`
		MessageID   string `json:"message_id"`
	}
	if err := c.post(ctx, "send message", "me/messages", req, &resp); err != nil {
		return nil, err
	}
	if resp.MessageID == "" {
		return nil, &Error{Op: "send message", Message: "response has no message_id"}
	}
	return &Sent{MessageID: resp.MessageID, RecipientID: resp.RecipientID}, nil
}

// SendWhatsAppText sends a free-form text message from the business number
// phoneNumberID to the WhatsApp user to (their number, digits with or without
// "+"). Outside the 24-hour customer service window WhatsApp refuses it and a
// template is needed.
func (c *Client) SendWhatsAppText(ctx context.Context, phoneNumberID, to, body string) (*Sent, error) {
	if phoneNumberID == "" {
		return nil, errs.Invalidf("phone_number_id", "is required")
	}
	if to == "" {
		return nil, errs.Invalidf("to", "is required")
	}
	if body == "" {
		return nil, errs.Invalidf("text.body", "is required")
	}
	req := map[string]any{
		"messaging_product": "whatsapp",
		"to":                to,
		"type":              "text",
		"text":              map[string]string{"body": body},
	}
	var resp struct {
		Contacts []struct {
			WaID string `json:"wa_id"`
		} `json:"contacts"`
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := c.post(ctx, "send WhatsApp message", url.PathEscape(phoneNumberID)+"/messages", req, &resp); err != nil {
		return nil, err
	}
	if len(resp.Messages) == 0 || resp.Messages[0].ID == "" {
		return nil, &Error{Op: "send WhatsApp message", Message: "response has no message id"}
	}
	s := &Sent{MessageID: resp.Messages[0].ID}
	if len(resp.Contacts) > 0 {
		s.RecipientID = resp.Contacts[0].WaID
	}
	return s, nil
}

func (c *Client) post(ctx context.Context, op, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("meta: %s: %w", op, err)
	}
	version := c.Version
	if version == "" {
		version = DefaultVersion
	}
	endpoint := strings.TrimRight(c.BaseURL, "/") + "/" + url.PathEscape(version) + "/" + path
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("meta: %s: %w", op, err)
	}
	hr.Header.Set("Authorization", "Bearer "+c.AccessToken)
	hr.Header.Set("Content-Type", "application/json")
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return &Error{Op: op, Err: provider.TransportError(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return &Error{Op: op, HTTPStatus: resp.StatusCode, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return ParseError(op, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		// Accepted but unreadable: not retryable, as the message may be on its way.
		return &Error{Op: op, HTTPStatus: resp.StatusCode, Message: "response is not JSON"}
	}
	return nil
}

// Error is a failed Graph API call: Meta's error object (with the HTTP
// status) or, with Err set, a transport failure.
type Error struct {
	Op          string
	HTTPStatus  int
	Message     string
	Type        string // OAuthException, GraphMethodException ...
	Code        int
	Subcode     int
	FBTraceID   string // quote it when asking Meta for support
	IsTransient bool
	Err         error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("meta: ")
	b.WriteString(e.Op)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
		return b.String()
	}
	if e.HTTPStatus != 0 {
		b.WriteString(": HTTP ")
		b.WriteString(strconv.Itoa(e.HTTPStatus))
	}
	if e.Code != 0 {
		b.WriteString(": code ")
		b.WriteString(strconv.Itoa(e.Code))
		if e.Subcode != 0 {
			b.WriteString("/")
			b.WriteString(strconv.Itoa(e.Subcode))
		}
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.FBTraceID != "" {
		b.WriteString(" (fbtrace_id ")
		b.WriteString(e.FBTraceID)
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying again later may succeed: network failures
// and timeouts, HTTP 429 and 5xx, errors Meta flags is_transient, and the
// codes Meta documents as temporary (unknown and service errors, throttling
// of the app, user, page or WhatsApp number). Permission, token, policy and
// recipient errors are permanent. A call the caller canceled is not retried.
func (e *Error) Retryable() bool {
	if e.Err != nil {
		return !errors.Is(e.Err, context.Canceled)
	}
	if e.IsTransient || e.HTTPStatus == http.StatusTooManyRequests || e.HTTPStatus >= 500 {
		return true
	}
	switch e.Code {
	case 1, 2, // API unknown, API service: downtime
		4, 17, 32, 341, 613, // application, user, page and custom rate limits
		80007,          // WhatsApp business account rate limit
		130429,         // WhatsApp Cloud API throughput reached
		131000, 131016, // WhatsApp: something went wrong, service unavailable
		131056: // WhatsApp: too many messages to the same user
		return true
	}
	return false
}

// ParseError reads Graph's {"error": {...}} document from a failed response.
// A body that is not one leaves only the HTTP status.
func ParseError(op string, status int, body []byte) *Error {
	e := &Error{Op: op, HTTPStatus: status}
	var doc struct {
		Error *struct {
			Message     string `json:"message"`
			Type        string `json:"type"`
			Code        int    `json:"code"`
			Subcode     int    `json:"error_subcode"`
			FBTraceID   string `json:"fbtrace_id"`
			IsTransient bool   `json:"is_transient"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil && doc.Error != nil {
		d := doc.Error
		e.Message, e.Type, e.Code, e.Subcode = provider.Clip(d.Message, 500), provider.Clip(d.Type, 100), d.Code, d.Subcode
		e.FBTraceID, e.IsTransient = provider.Clip(d.FBTraceID, 100), d.IsTransient
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}
