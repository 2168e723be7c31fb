// Package chat is the public API of the chat widget under /chat/v1 and the
// widget itself (/widget.js). Pages of other sites call it from the
// browser, so every route checks the page's Origin against the contact
// point's allowed origins and answers with CORS headers; there are no
// cookies, the visitor holds a bearer token. Thin handlers: decode, call
// internal/channel/webchat, encode.
package chat

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/channel/webchat"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
	"github.com/touchpoint-hub/touchpoint/internal/web/ratelimit"
)

//go:embed widget.js
var widgetJS []byte

// Handler serves the widget and its API.
type Handler struct {
	Log  *slog.Logger
	Chat *webchat.Service
	Bus  bus.Bus
	// PerAddress limits every chat request per client address; PerVisitor
	// limits messages per conversation; Starts limits new conversations per
	// client address. Nil means no limit.
	PerAddress *ratelimit.Limiter
	PerVisitor *ratelimit.Limiter
	Starts     *ratelimit.Limiter
}

// maxBody bounds a chat request body: a message of MaxText characters of
// four bytes each, escaped, fits.
const maxBody = 64 << 10

// Register adds the routes.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /widget.js", h.widget)
	mux.HandleFunc("OPTIONS /chat/v1/points/{cp}/{rest...}", h.preflight)
	mux.HandleFunc("GET /chat/v1/points/{cp}/config", h.point(h.config))
	mux.HandleFunc("POST /chat/v1/points/{cp}/conversations", h.point(h.start))
	mux.HandleFunc("GET /chat/v1/points/{cp}/messages", h.visitor(h.messages))
	mux.HandleFunc("POST /chat/v1/points/{cp}/messages", h.visitor(h.send))
	mux.HandleFunc("PATCH /chat/v1/points/{cp}/conversation", h.visitor(h.identify))
	mux.HandleFunc("POST /chat/v1/points/{cp}/delivered", h.visitor(h.delivered))
	mux.HandleFunc("GET /chat/v1/points/{cp}/events", h.visitor(h.events))
	mux.HandleFunc("GET /chat/v1/points/{cp}/answers", h.point(h.suggest))
	mux.HandleFunc("GET /chat/v1/points/{cp}/answers/{article}", h.point(h.article))
}

func (h *Handler) widget(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	// Any site may load the script; what it may do is decided per origin by the API.
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	w.Write(widgetJS)
}

// clientAddr is the client's IP address.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errs.ErrUnauthenticated) {
		// Not a bearer realm a person signs in to: the widget starts over.
		w.Header().Set("WWW-Authenticate", `Bearer realm="touchpoint-chat"`)
	}
	problem.Write(w, r, h.Log, err)
}

func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration, detail string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
	h.fail(w, r, &problem.Status{Code: http.StatusTooManyRequests, Detail: detail + "; retry later"})
}

// allow checks the rate limit of the client address.
func (h *Handler) allow(w http.ResponseWriter, r *http.Request) bool {
	if h.PerAddress == nil {
		return true
	}
	if ok, wait := h.PerAddress.Allow(clientAddr(r)); !ok {
		h.tooMany(w, r, wait, "too many chat requests from your address")
		return false
	}
	return true
}

// origin finds the web chat of the path and checks the page's origin. On
// success the CORS headers for that origin are set.
func (h *Handler) origin(w http.ResponseWriter, r *http.Request) (*webchat.Point, bool) {
	w.Header().Add("Vary", "Origin")
	cpID, err := id.Parse(r.PathValue("cp"))
	if err != nil {
		h.fail(w, r, &problem.Status{Code: http.StatusNotFound, Detail: "no web chat " + r.PathValue("cp")})
		return nil, false
	}
	p, err := h.Chat.Point(r.Context(), cpID)
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	o := r.Header.Get("Origin")
	if !p.AllowsOrigin(o) && !ownPage(r, o) {
		if o == "" {
			o = "(none)"
		}
		h.fail(w, r, &problem.Status{Code: http.StatusForbidden, Field: "Origin",
			Detail: fmt.Sprintf("pages of origin %s may not use this chat; add the origin to the contact point's settings.allowed_origins", o)})
		return nil, false
	}
	if o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
	}
	w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
	return p, true
}

// ownPage tells whether the request comes from a page this server served
// (the help center's chat page), which needs no allowed origin. A browser
// sends such a page's origin with the server's own host, or, for a GET to
// its own origin, no Origin at all but Sec-Fetch-Site: same-origin.
func ownPage(r *http.Request, origin string) bool {
	if origin == "" {
		return r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	if !h.allow(w, r) {
		return
	}
	if _, ok := h.origin(w, r); !ok {
		return
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Methods", "GET, POST, PATCH")
	hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	hd.Set("Access-Control-Max-Age", "600")
	// Chrome asks before a public page may call a server on a private
	// network (a sample page on localhost, an intranet install).
	if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
		hd.Set("Access-Control-Allow-Private-Network", "true")
	}
	w.WriteHeader(http.StatusNoContent)
}

// point wraps a handler that needs the web chat only.
func (h *Handler) point(next func(http.ResponseWriter, *http.Request, *webchat.Point)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.allow(w, r) {
			return
		}
		p, ok := h.origin(w, r)
		if !ok {
			return
		}
		next(w, r, p)
	}
}

// visitor wraps a handler that needs the visitor's conversation, opened by
// the bearer token (or ?token= for EventSource, which sends no headers).
func (h *Handler) visitor(next func(http.ResponseWriter, *http.Request, *webchat.Point, *webchat.Conversation)) http.HandlerFunc {
	return h.point(func(w http.ResponseWriter, r *http.Request, p *webchat.Point) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			token = r.URL.Query().Get("token")
		}
		c, err := h.Chat.Conversation(r.Context(), p, strings.TrimSpace(token))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		next(w, r, p, c)
	})
}

// decode reads a JSON body into v, naming the field at fault.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return &problem.Status{Code: http.StatusBadRequest, Detail: "malformed JSON: unexpected data after the JSON value"}
		}
		return nil
	case errors.As(err, &mbe):
		return err
	case errors.As(err, &typ) && typ.Field != "":
		return errs.Invalidf(typ.Field, "must be %s", typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errs.Invalidf(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a known field")
	case errors.Is(err, io.EOF):
		return &problem.Status{Code: http.StatusBadRequest, Detail: "the request body is empty; send a JSON object"}
	}
	return &problem.Status{Code: http.StatusBadRequest, Detail: "malformed JSON: " + err.Error()}
}

func send(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// config is what the widget needs before the visitor writes.
type config struct {
	ContactPointID  id.ID  `json:"contact_point_id"`
	Title           string `json:"title"`
	Greeting        string `json:"greeting,omitempty"`
	PreChatForm     bool   `json:"pre_chat_form"`
	RequireEmail    bool   `json:"require_email"`
	AgentsAvailable bool   `json:"agents_available"`
}

func (h *Handler) config(w http.ResponseWriter, r *http.Request, p *webchat.Point) {
	send(w, http.StatusOK, config{ContactPointID: p.ID, Title: p.Settings.Title, Greeting: p.Settings.Greeting,
		PreChatForm: p.Settings.PreChatForm, RequireEmail: p.Settings.RequireEmail,
		AgentsAvailable: h.Chat.AgentsAvailable(r.Context())})
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request, p *webchat.Point) {
	if h.Starts != nil {
		if ok, wait := h.Starts.Allow(clientAddr(r)); !ok {
			h.tooMany(w, r, wait, "too many new chats from your address")
			return
		}
	}
	var who webchat.Identity
	if err := decode(w, r, &who); err != nil {
		h.fail(w, r, err)
		return
	}
	if who.AnswerByEmail {
		h.fail(w, r, errs.Invalidf("answer_by_email", "is for PATCH conversation, after a message"))
		return
	}
	st, err := h.Chat.Start(r.Context(), p, who)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	send(w, http.StatusCreated, st)
}

// history is a conversation and its messages.
type history struct {
	Conversation    *webchat.Conversation `json:"conversation"`
	Items           []webchat.Message     `json:"items"`
	AgentsAvailable bool                  `json:"agents_available"`
}

func (h *Handler) messages(w http.ResponseWriter, r *http.Request, p *webchat.Point, c *webchat.Conversation) {
	msgs, err := h.Chat.Messages(r.Context(), c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, history{Conversation: c, Items: msgs, AgentsAvailable: h.Chat.AgentsAvailable(r.Context())})
}

func (h *Handler) send(w http.ResponseWriter, r *http.Request, p *webchat.Point, c *webchat.Conversation) {
	if h.PerVisitor != nil {
		if ok, wait := h.PerVisitor.Allow(c.ID.String()); !ok {
			h.tooMany(w, r, wait, "you are sending messages too fast")
			return
		}
	}
	var in struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	}
	if err := decode(w, r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	sent, err := h.Chat.Send(r.Context(), p, c, in.ID, in.Text)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	code := http.StatusCreated
	if sent.Duplicate {
		code = http.StatusOK
	}
	send(w, code, struct {
		*webchat.Sent
		AgentsAvailable bool `json:"agents_available"`
	}{sent, h.Chat.AgentsAvailable(r.Context())})
}

func (h *Handler) identify(w http.ResponseWriter, r *http.Request, p *webchat.Point, c *webchat.Conversation) {
	var who webchat.Identity
	if err := decode(w, r, &who); err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.Chat.Identify(r.Context(), p, c, who)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, c)
}

// delivered is the widget saying it showed agent messages.
func (h *Handler) delivered(w http.ResponseWriter, r *http.Request, p *webchat.Point, c *webchat.Conversation) {
	var in struct {
		IDs []id.ID `json:"ids"`
	}
	if err := decode(w, r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	if len(in.IDs) > 500 {
		h.fail(w, r, errs.Invalidf("ids", "at most 500"))
		return
	}
	msgs, err := h.Chat.Messages(r.Context(), c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	want := map[id.ID]bool{}
	for _, v := range in.IDs {
		want[v] = true
	}
	var shown []webchat.Message
	for _, m := range msgs {
		if want[m.ID] {
			shown = append(shown, m)
		}
	}
	if err := h.Chat.Mark(r.Context(), shown, webchat.StatusDelivered); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
