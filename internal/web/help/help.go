// Package help is the public help center at /help: the website contact
// point's pages that answer from the knowledge base (public articles only).
// Pages are server-rendered and readable without JavaScript; no desk
// session is involved. Handlers decode, call internal/knowledge and
// internal/interaction, and render.
//
// Each page view of a visitor (known by an anonymous id in a cookie) is
// recorded as a page_view interaction on the website contact point, and an
// article view cites the article and fact versions shown; votes and contact
// forms are interactions too, so no table of the help center's own exists.
package help

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/web/ratelimit"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/help.css
var helpCSS []byte

// Handler serves the help center.
type Handler struct {
	log          *slog.Logger
	kb           *knowledge.Service
	interactions *interaction.Service
	points       *contactpoint.Service
	// posts limits votes and contact forms per client address (nil: none).
	posts *ratelimit.Limiter
	pages map[string]*template.Template
	views *recorder
	now   func() time.Time

	mu      sync.Mutex
	site    site
	siteAge time.Time
}

// site is what every page needs and changes rarely: the contact points and
// the locales with articles, kept for a few seconds.
type site struct {
	web, chat *contactpoint.ContactPoint
	locales   []string
}

const siteTTL = 5 * time.Second

// Options configure New.
type Options struct {
	Log          *slog.Logger
	Knowledge    *knowledge.Service
	Interactions *interaction.Service
	Points       *contactpoint.Service
	// Posts limits votes and contact forms per client address; nil: no limit.
	Posts *ratelimit.Limiter
}

// New parses the templates once and starts nothing: page views are written
// by a goroutine started with the first one.
func New(o Options) *Handler {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{log: log, kb: o.Knowledge, interactions: o.Interactions, points: o.Points, posts: o.Posts,
		pages: parsePages(), now: func() time.Time { return time.Now().UTC() }}
	h.views = newRecorder(o.Interactions, log)
	return h
}

// Flush waits until every page view taken so far is stored (tests, shutdown).
func (h *Handler) Flush() { h.views.flush() }

// Register adds the routes.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /help", h.home)
	mux.HandleFunc("GET /help/{$}", h.home)
	mux.HandleFunc("GET /help/search", h.search)
	mux.HandleFunc("GET /help/categories/{name}", h.category)
	mux.HandleFunc("GET /help/articles/{slug}", h.article)
	mux.HandleFunc("POST /help/articles/{slug}/helpful", h.vote)
	mux.HandleFunc("GET /help/contact", h.contact)
	mux.HandleFunc("POST /help/contact/callback", h.callback)
	mux.HandleFunc("POST /help/contact/email", h.email)
	mux.HandleFunc("GET /help/chat", h.chatPage)
	mux.HandleFunc("GET /help/static/help.css", h.css)
	mux.HandleFunc("/help/", h.notFoundPage)
}

func parsePages() map[string]*template.Template {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.New(name).ParseFS(templateFS, "templates/layout.html", f))
	}
	return pages
}

// siteInfo returns the cached site, reading it again when old.
func (h *Handler) siteInfo(ctx context.Context) (site, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.siteAge.IsZero() && time.Since(h.siteAge) < siteTTL {
		return h.site, nil
	}
	cps, err := h.points.List(ctx, false)
	if err != nil {
		return site{}, err
	}
	var s site
	for _, cp := range cps {
		switch cp.Kind {
		case "website":
			if s.web == nil || helpCenterFlag(cp) {
				s.web = cp
			}
		case "web_chat":
			if s.chat == nil {
				s.chat = cp
			}
		}
	}
	if s.locales, err = h.kb.Locales(ctx, knowledge.Public); err != nil {
		return site{}, err
	}
	h.site, h.siteAge = s, time.Now()
	return s, nil
}

// helpCenterFlag tells whether a website contact point is marked as the
// help center's ("help_center": true in its settings), for companies with
// several websites.
func helpCenterFlag(cp *contactpoint.ContactPoint) bool {
	return bytes.Contains(bytes.ReplaceAll(cp.Settings, []byte(" "), nil), []byte(`"help_center":true`))
}

// setHeaders sets the security and caching headers of a help page. Pages
// run no script except the chat page's widget, from this server.
func setHeaders(w http.ResponseWriter, script bool) {
	h := w.Header()
	csp := "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	if script {
		csp += "; script-src 'self'; connect-src 'self'"
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Language, Cookie")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// page is the data every template gets.
type page struct {
	Title   string
	Lang    string
	Query   string
	HasChat bool
	Data    any
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, code int, name string, p page) {
	t, ok := h.pages[name]
	if !ok {
		h.log.Error("help: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.Error("help: rendering", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	setHeaders(w, name == "chat")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errs.ErrNotFound):
		h.notFound(w, r)
	case errors.Is(err, context.Canceled):
	default:
		h.log.Error("help: request failed", "path", r.URL.Path, "err", err)
		h.render(w, r, http.StatusInternalServerError, "error", page{Title: "Something went wrong", Lang: "en"})
	}
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusNotFound, "notfound", page{Title: "Page not found", Lang: "en"})
}

func (h *Handler) notFoundPage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.notFound(w, r)
}

func (h *Handler) css(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(helpCSS)
}

// pickLocale chooses the locale of the pages from Accept-Language among the
// locales that have articles: an exact tag, else the same language, else
// "en", else the first one.
func pickLocale(header string, have []string) string {
	if len(have) == 0 {
		return "en"
	}
	for _, part := range strings.Split(header, ",") {
		tag := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		if tag == "" || tag == "*" || strings.HasSuffix(part, "q=0") {
			continue
		}
		lang := strings.ToLower(strings.SplitN(tag, "-", 2)[0])
		for _, l := range have {
			if strings.EqualFold(l, tag) {
				return l
			}
		}
		for _, l := range have {
			if strings.EqualFold(strings.SplitN(l, "-", 2)[0], lang) {
				return l
			}
		}
	}
	for _, l := range have {
		if l == "en" {
			return l
		}
	}
	return have[0]
}

// visitorCookie names the cookie that holds a visitor's anonymous id.
const visitorCookie = "tp_visitor"

// visitor returns the visitor's anonymous id, setting a new cookie when the
// request has none (or a malformed one).
func visitor(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(visitorCookie); err == nil && validVisitor(c.Value) {
		return c.Value
	}
	v := randomHex(16)
	http.SetCookie(w, &http.Cookie{Name: visitorCookie, Value: v, Path: "/help", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	return v
}

func validVisitor(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// isBot tells a crawler by its user agent: crawlers get pages but are not
// visitors whose views become customers' interactions.
func isBot(r *http.Request) bool {
	ua := strings.ToLower(r.UserAgent())
	return ua == "" || strings.Contains(ua, "bot") || strings.Contains(ua, "spider") || strings.Contains(ua, "crawl")
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// allowPost applies the per-address limit of votes and forms.
func (h *Handler) allowPost(w http.ResponseWriter, r *http.Request) bool {
	if h.posts == nil {
		return true
	}
	if ok, wait := h.posts.Allow(clientAddr(r)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		h.render(w, r, http.StatusTooManyRequests, "error", page{Title: "Too many requests", Lang: "en",
			Data: "You sent too many forms in a short time. Please wait a minute and try again."})
		return false
	}
	return true
}
