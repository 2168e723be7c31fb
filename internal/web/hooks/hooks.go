// Package hooks serves the providers' webhooks: inbound messages and
// delivery callbacks of Twilio, Meta and Telegram, one path per contact
// point so that each is checked with its own secrets. They are public (no
// API token): the provider's signature is the authentication, and a request
// without a valid one is refused with a bare 403, a log line and a counter.
package hooks

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/touchpoint-hub/touchpoint/internal/channel/messaging"
	"github.com/touchpoint-hub/touchpoint/internal/channel/meta"
	"github.com/touchpoint-hub/touchpoint/internal/channel/telegram"
	"github.com/touchpoint-hub/touchpoint/internal/channel/twilio"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
	"github.com/touchpoint-hub/touchpoint/internal/web/ratelimit"
)

// Handler serves /hooks/....
type Handler struct {
	Messaging *messaging.Service
	Log       *slog.Logger
	// PerPoint limits requests per contact point (nil: no limit).
	PerPoint *ratelimit.Limiter

	refused  *prometheus.CounterVec
	received *prometheus.CounterVec
}

// New returns the webhook handler.
func New(m *messaging.Service, log *slog.Logger, perPoint *ratelimit.Limiter) *Handler {
	return &Handler{Messaging: m, Log: log, PerPoint: perPoint,
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchpoint_webhook_signature_failures_total",
			Help: "Provider webhooks refused for a missing or wrong signature, by provider.",
		}, []string{"provider"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "touchpoint_webhook_messages_total",
			Help: "Inbound messages and status callbacks taken from provider webhooks, by provider and what they were.",
		}, []string{"provider", "kind"}),
	}
}

// Collectors are the handler's metrics, for the node's registry.
func (h *Handler) Collectors() []prometheus.Collector {
	return []prometheus.Collector{h.refused, h.received}
}

// Register adds the routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /hooks/twilio/{cp}", h.twilioMessage)
	mux.HandleFunc("POST /hooks/twilio/{cp}/status", h.twilioStatus)
	mux.HandleFunc("GET /hooks/meta/{cp}", h.metaVerify)
	mux.HandleFunc("POST /hooks/meta/{cp}", h.metaEvent)
	mux.HandleFunc("POST /hooks/telegram/{cp}", h.telegramUpdate)
}

// point finds the contact point of the path, after the rate limit.
func (h *Handler) point(w http.ResponseWriter, r *http.Request, provider string) (*messaging.Point, bool) {
	cpID, err := id.Parse(r.PathValue("cp"))
	if err != nil {
		problem.Write(w, r, h.Log, &problem.Status{Code: http.StatusNotFound, Detail: "no such contact point"})
		return nil, false
	}
	if h.PerPoint != nil {
		if ok, wait := h.PerPoint.Allow(cpID.String()); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			problem.Write(w, r, h.Log, &problem.Status{Code: http.StatusTooManyRequests, Detail: "too many webhook requests for this contact point"})
			return nil, false
		}
	}
	p, err := h.Messaging.Point(r.Context(), cpID, provider)
	if err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			err = &problem.Status{Code: http.StatusNotFound, Detail: "no such " + provider + " contact point"}
		}
		problem.Write(w, r, h.Log, err)
		return nil, false
	}
	return p, true
}

// body reads the request body up to limit bytes.
func body(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	return buf.Bytes(), err
}

// forbid answers a request whose signature does not hold: nothing is
// stored and the caller learns nothing but the status.
func (h *Handler) forbid(w http.ResponseWriter, r *http.Request, provider string, p *messaging.Point, why string) {
	h.refused.WithLabelValues(provider).Inc()
	h.Log.WarnContext(r.Context(), "webhook refused: bad signature", "provider", provider, "contact_point", p.ID,
		"reason", why, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusForbidden)
}

// fail answers an error of parsing or storing: a provider retries a 5xx,
// not a 4xx.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var inv *errs.Invalid
	if errors.As(err, &inv) {
		err = &problem.Status{Code: http.StatusBadRequest, Detail: inv.Error(), Field: inv.Field}
	}
	problem.Write(w, r, h.Log, err)
}

// signedURL is the URL Twilio signed: the contact point's (or node's)
// public address and the path and query it called.
func (h *Handler) signedURL(r *http.Request, p *messaging.Point) string {
	base := h.Messaging.PublicURL(p)
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + r.URL.RequestURI()
}

// twilioForm reads and checks a Twilio webhook; ok is false when it has
// answered already.
func (h *Handler) twilioForm(w http.ResponseWriter, r *http.Request) (*messaging.Point, map[string][]string, bool) {
	p, ok := h.point(w, r, messaging.Twilio)
	if !ok {
		return nil, nil, false
	}
	raw, err := body(w, r, twilio.MaxWebhookBytes)
	if err != nil {
		problem.Write(w, r, h.Log, err)
		return nil, nil, false
	}
	form, err := twilio.ParseForm(raw)
	if err != nil {
		// Unreadable bodies cannot carry a valid signature either.
		h.forbid(w, r, messaging.Twilio, p, "body is not a form")
		return nil, nil, false
	}
	if !twilio.ValidateSignature(p.Secrets["auth_token"], h.signedURL(r, p), form, r.Header.Get(twilio.SignatureHeader)) {
		h.forbid(w, r, messaging.Twilio, p, "X-Twilio-Signature does not match")
		return nil, nil, false
	}
	return p, form, true
}

// emptyTwiML answers a message without replying to it.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

func (h *Handler) twilioMessage(w http.ResponseWriter, r *http.Request) {
	p, form, ok := h.twilioForm(w, r)
	if !ok {
		return
	}
	in, err := twilio.ParseInbound(form)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if p.Settings.AccountSID != "" && in.AccountSid != p.Settings.AccountSID {
		h.fail(w, r, errs.Invalidf("AccountSid", "is not this contact point's account"))
		return
	}
	if _, err := h.Messaging.Ingest(r.Context(), p, messaging.FromTwilio(in)); err != nil {
		h.fail(w, r, err)
		return
	}
	h.received.WithLabelValues(messaging.Twilio, "message").Inc()
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	io.WriteString(w, emptyTwiML)
}

func (h *Handler) twilioStatus(w http.ResponseWriter, r *http.Request) {
	p, form, ok := h.twilioForm(w, r)
	if !ok {
		return
	}
	sc, err := twilio.ParseStatusCallback(form)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if state := messaging.TwilioState(sc.Status); state != "" {
		errText := ""
		if sc.ErrorCode != 0 {
			errText = "twilio error " + strconv.Itoa(sc.ErrorCode) + ": " + sc.ErrorMessage
		}
		if _, err := h.Messaging.Status(r.Context(), p, sc.MessageSid, state, errText); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.received.WithLabelValues(messaging.Twilio, "status").Inc()
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) metaVerify(w http.ResponseWriter, r *http.Request) {
	p, ok := h.point(w, r, messaging.Meta)
	if !ok {
		return
	}
	challenge, err := meta.VerifyChallenge(r.URL.Query(), p.Secrets["verify_token"])
	if err != nil {
		h.forbid(w, r, messaging.Meta, p, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, challenge)
}

func (h *Handler) metaEvent(w http.ResponseWriter, r *http.Request) {
	p, ok := h.point(w, r, messaging.Meta)
	if !ok {
		return
	}
	raw, err := body(w, r, meta.MaxWebhookBytes)
	if err != nil {
		problem.Write(w, r, h.Log, err)
		return
	}
	if !meta.ValidateSignature(p.Secrets["app_secret"], raw, r.Header.Get(meta.SignatureHeader)) {
		h.forbid(w, r, messaging.Meta, p, "X-Hub-Signature-256 does not match")
		return
	}
	wh, err := meta.ParseWebhook(raw)
	if errors.Is(err, meta.ErrUnsupportedObject) {
		w.WriteHeader(http.StatusOK) // an object we do not take: Meta must not retry it
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// One by one: each message is idempotent, so a retry of the whole
	// event after a failure half-way stores the rest once.
	for _, in := range wh.Messages {
		if _, err := h.Messaging.Ingest(r.Context(), p, messaging.FromMeta(in)); err != nil {
			h.fail(w, r, err)
			return
		}
		h.received.WithLabelValues(messaging.Meta, "message").Inc()
	}
	for _, st := range wh.Statuses {
		state := messaging.MetaState(st.Status)
		if state == "" {
			continue
		}
		errText := ""
		if len(st.Errors) > 0 {
			errText = "meta error " + strconv.Itoa(st.Errors[0].Code) + ": " + st.Errors[0].Title
		}
		if _, err := h.Messaging.Status(r.Context(), p, st.ExternalID, state, errText); err != nil {
			h.fail(w, r, err)
			return
		}
		h.received.WithLabelValues(messaging.Meta, "status").Inc()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "EVENT_RECEIVED")
}

func (h *Handler) telegramUpdate(w http.ResponseWriter, r *http.Request) {
	p, ok := h.point(w, r, messaging.Telegram)
	if !ok {
		return
	}
	if !telegram.ValidateSecretToken(p.Secrets["webhook_secret"], r.Header.Get(telegram.SecretTokenHeader)) {
		h.forbid(w, r, messaging.Telegram, p, "X-Telegram-Bot-Api-Secret-Token does not match")
		return
	}
	raw, err := body(w, r, telegram.MaxUpdateBytes)
	if err != nil {
		problem.Write(w, r, h.Log, err)
		return
	}
	u, err := telegram.ParseUpdate(raw)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if m, ok := messaging.FromTelegram(u); ok {
		if _, err := h.Messaging.Ingest(r.Context(), p, m); err != nil {
			h.fail(w, r, err)
			return
		}
		h.received.WithLabelValues(messaging.Telegram, "message").Inc()
	}
	w.WriteHeader(http.StatusOK)
}
