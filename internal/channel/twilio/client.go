package twilio

import (
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

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// maxResponseBytes bounds what is read of an API response; a message resource
// is about 1 KiB.
const maxResponseBytes = 1 << 20

// Twilio error codes the hub acts on.
const (
	CodeInvalidTo       = 21211 // the To number is not a valid phone number
	CodeUnsubscribed    = 21610 // the recipient replied STOP: do not message them
	CodeTooManyRequests = 20429
)

// Client sends messages through one Twilio account. The zero value is not
// usable; build it with NewClient and adjust the fields before first use.
type Client struct {
	BaseURL    string // DefaultBaseURL unless pointed at a test server
	AccountSid string
	AuthToken  string // the auth token, or an API key's secret when Username is the key's sid
	Username   string // basic-auth user when it is not the account sid (API keys)
	HTTPClient *http.Client
}

// NewClient is a client for the account, authenticating with its auth token.
func NewClient(accountSid, authToken string) *Client {
	return &Client{BaseURL: DefaultBaseURL, AccountSid: accountSid, AuthToken: authToken, HTTPClient: http.DefaultClient}
}

// SendRequest is one outbound message. Either From or MessagingServiceSid
// names the sender; Body, MediaURLs or both carry the content. To and From
// are bare addresses when Channel is sms and get the "whatsapp:" prefix when
// it is whatsapp.
type SendRequest struct {
	Channel             Channel // ChannelSMS when empty
	To                  string
	From                string
	MessagingServiceSid string
	Body                string
	MediaURLs           []string
	StatusCallback      string // URL Twilio reports delivery to
}

// Sent is what Twilio answered to a send: the message sid, to match later
// status callbacks, and its first status (queued, or accepted with a
// messaging service).
type Sent struct {
	Sid    string
	Status MessageStatus
}

// Send creates a Message resource. A timeout or a 5xx does not prove the
// message was not accepted, and Twilio has no idempotency key for this call:
// a retry after such an error may send the message twice.
func (c *Client) Send(ctx context.Context, req SendRequest) (*Sent, error) {
	form, err := req.form()
	if err != nil {
		return nil, err
	}
	endpoint := strings.TrimRight(c.BaseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(c.AccountSid) + "/Messages.json"
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("twilio: send message: %w", err)
	}
	user := c.Username
	if user == "" {
		user = c.AccountSid
	}
	hr.SetBasicAuth(user, c.AuthToken)
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.Header.Set("Accept", "application/json")
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, &Error{Op: "send message", Err: provider.TransportError(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, &Error{Op: "send message", HTTPStatus: resp.StatusCode, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, ParseError("send message", resp.StatusCode, body)
	}
	var m struct {
		Sid    string `json:"sid"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.Sid == "" {
		// Accepted but unreadable: not retryable, as the message may be on its way.
		return nil, &Error{Op: "send message", HTTPStatus: resp.StatusCode, Message: "response has no message sid"}
	}
	return &Sent{Sid: m.Sid, Status: MessageStatus(m.Status)}, nil
}

func (r SendRequest) form() (url.Values, error) {
	ch := r.Channel
	if ch == "" {
		ch = ChannelSMS
	}
	if ch != ChannelSMS && ch != ChannelWhatsApp {
		return nil, errs.Invalidf("Channel", "unsupported channel %q", ch)
	}
	if r.To == "" {
		return nil, errs.Invalidf("To", "is required")
	}
	if r.From == "" && r.MessagingServiceSid == "" {
		return nil, errs.Invalidf("From", "is required unless MessagingServiceSid is set")
	}
	if r.Body == "" && len(r.MediaURLs) == 0 {
		return nil, errs.Invalidf("Body", "is required unless MediaURLs are set")
	}
	if len(r.MediaURLs) > MaxMedia {
		return nil, errs.Invalidf("MediaURLs", "at most %d media per message", MaxMedia)
	}
	addr := func(s string) string {
		if ch == ChannelWhatsApp && !strings.HasPrefix(s, whatsappPrefix) {
			return whatsappPrefix + s
		}
		return s
	}
	f := url.Values{}
	f.Set("To", addr(r.To))
	if r.From != "" {
		f.Set("From", addr(r.From))
	}
	if r.MessagingServiceSid != "" {
		f.Set("MessagingServiceSid", r.MessagingServiceSid)
	}
	if r.Body != "" {
		f.Set("Body", r.Body)
	}
	for _, m := range r.MediaURLs {
		f.Add("MediaUrl", m)
	}
	if r.StatusCallback != "" {
		f.Set("StatusCallback", r.StatusCallback)
	}
	return f, nil
}

// Error is a failed API call: either Twilio's error document (Code, Message,
// MoreInfo, with the HTTP status) or, with Err set, a transport failure.
type Error struct {
	Op         string
	HTTPStatus int
	Code       int
	Message    string
	MoreInfo   string
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("twilio: ")
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
		b.WriteString(": error ")
		b.WriteString(strconv.Itoa(e.Code))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying again later may succeed: rate limits,
// Twilio's server errors and network failures or timeouts are; refusals of
// the request itself (bad number, unsubscribed recipient, bad credentials)
// are not. A call the caller canceled is not retried.
func (e *Error) Retryable() bool {
	if e.Err != nil {
		return !errors.Is(e.Err, context.Canceled)
	}
	return e.HTTPStatus == http.StatusTooManyRequests || e.HTTPStatus >= 500 || e.Code == CodeTooManyRequests
}

// OptedOut reports whether Twilio refused because the recipient opted out:
// consent should be recorded, not the message retried.
func (e *Error) OptedOut() bool { return e.Code == CodeUnsubscribed }

// ParseError reads Twilio's error document from a failed response. A body that
// is not one (a proxy's HTML page, say) leaves only the HTTP status.
func ParseError(op string, status int, body []byte) *Error {
	e := &Error{Op: op, HTTPStatus: status}
	var doc struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
		Status   int    `json:"status"`
	}
	if len(body) > maxResponseBytes {
		body = body[:maxResponseBytes]
	}
	if json.Unmarshal(body, &doc) == nil {
		e.Code, e.Message, e.MoreInfo = doc.Code, provider.Clip(doc.Message, 500), provider.Clip(doc.MoreInfo, 200)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}
