// Package kiosk serves the store kiosk at /kiosk/{contact point id}: a
// touch-first, full-screen web app over internal/kiosk. Pages are
// html/template, with one stylesheet and one small script (digit pads, the
// on-screen keyboard, the idle reset, the queue place), all embedded.
package kiosk

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	kioskdomain "github.com/touchpoint-hub/touchpoint/internal/kiosk"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/web/ratelimit"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

const cookieName = "tp_kiosk"

// keyRows are the on-screen keyboard's letters (no physical keyboard is assumed).
var keyRows = [][]string{
	strings.Split("1234567890", ""), strings.Split("qwertyuiop", ""), strings.Split("asdfghjkl", ""), strings.Split("zxcvbnm", ""),
}

// Handler is the kiosk web app.
type Handler struct {
	Log       *slog.Logger
	Kiosk     *kioskdomain.Service
	Knowledge *knowledge.Service
	// IsDemo tells whether the store holds the demo: codes are then shown
	// on screen, under a DEMO banner, since no SMS goes out.
	IsDemo func(context.Context) bool
	// Tries limits identification attempts (codes, cards) per kiosk.
	Tries *ratelimit.Limiter

	pages map[string]*template.Template
}

// Register adds the kiosk's routes.
func (h *Handler) Register(mux *http.ServeMux) {
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	if h.Tries == nil {
		h.Tries = ratelimit.New(0.5, 10)
	}
	h.pages = parsePages()
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	asset := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + r.PathValue("file")
		files.ServeHTTP(w, r2)
	}
	mux.HandleFunc("GET /kiosk/{cp}/assets/{file}", asset)
	mux.HandleFunc("GET /kiosk/{cp}", h.page(h.home))
	mux.HandleFunc("GET /kiosk/{cp}/search", h.page(h.search))
	mux.HandleFunc("GET /kiosk/{cp}/articles/{article}", h.page(h.article))
	mux.HandleFunc("GET /kiosk/{cp}/identify", h.page(h.identify))
	mux.HandleFunc("POST /kiosk/{cp}/identify/phone", h.page(h.sendCode))
	mux.HandleFunc("POST /kiosk/{cp}/identify/code", h.page(h.verifyCode))
	mux.HandleFunc("POST /kiosk/{cp}/identify/card", h.page(h.card))
	mux.HandleFunc("GET /kiosk/{cp}/me", h.known(h.me))
	mux.HandleFunc("POST /kiosk/{cp}/me/bill-copy", h.known(h.billCopy))
	mux.HandleFunc("POST /kiosk/{cp}/me/check-in", h.known(h.checkIn))
	mux.HandleFunc("GET /kiosk/{cp}/me/queue", h.known(h.queue))
	mux.HandleFunc("POST /kiosk/{cp}/me/callback", h.known(h.callback))
	mux.HandleFunc("POST /kiosk/{cp}/me/rate", h.known(h.rate))
	mux.HandleFunc("POST /kiosk/{cp}/ping", h.page(h.ping))
	mux.HandleFunc("POST /kiosk/{cp}/reset", h.reset)
}

// req is one request's kiosk and session (nil when there is none yet).
type req struct {
	w      http.ResponseWriter
	r      *http.Request
	kiosk  *kioskdomain.Kiosk
	sess   *kioskdomain.Session
	base   string // /kiosk/{cp}
	isDemo bool
}

// ensure starts a session when the visitor has none.
func (h *Handler) ensure(q *req) error {
	if q.sess != nil {
		return nil
	}
	token, ss, err := h.Kiosk.Start(q.r.Context(), q.kiosk.ID)
	if err != nil {
		return err
	}
	http.SetCookie(q.w, &http.Cookie{Name: cookieName, Value: token, Path: q.base, HttpOnly: true,
		Secure: q.r.TLS != nil, SameSite: http.SameSiteStrictMode})
	q.sess = ss
	return nil
}

// page resolves the kiosk and the session, refuses cross-site posts, and
// runs fn.
func (h *Handler) page(fn func(q *req)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cpID, err := id.Parse(r.PathValue("cp"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		k, err := h.Kiosk.Kiosk(r.Context(), cpID)
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}
		setPageHeaders(w)
		q := &req{w: w, r: r, kiosk: k, base: "/kiosk/" + cpID.String()}
		if r.Method == http.MethodPost && !sameOrigin(r) {
			h.fail(w, r, q, errs.ErrForbidden)
			return
		}
		if c, err := r.Cookie(cookieName); err == nil {
			q.sess, err = h.Kiosk.Session(r.Context(), cpID, c.Value)
			if err != nil && !errors.Is(err, errs.ErrUnauthenticated) {
				h.fail(w, r, q, err)
				return
			}
		}
		if h.IsDemo != nil {
			q.isDemo = h.IsDemo(r.Context())
		}
		fn(q)
	}
}

// known is page for an identified visitor only; anyone else goes home, so
// a lapsed or reset session never shows a customer's data.
func (h *Handler) known(fn func(q *req)) http.HandlerFunc {
	return h.page(func(q *req) {
		if q.sess == nil || !q.sess.Identified() {
			http.Redirect(q.w, q.r, q.base+"?timeout=1", http.StatusSeeOther)
			return
		}
		fn(q)
	})
}

func (h *Handler) render(q *req, status int, name string, data map[string]any) {
	t := h.pages[name]
	if data == nil {
		data = map[string]any{}
	}
	canText := h.Kiosk.CanText(q.kiosk)
	// The demo banner says codes are shown on screen: only when they are.
	data["Base"], data["Demo"], data["Kiosk"] = q.base, q.isDemo && !canText, q.kiosk
	data["PhoneSignIn"] = q.isDemo || canText
	data["Identified"] = q.sess != nil && q.sess.Identified()
	data["HasSession"] = q.sess != nil
	data["IdleSeconds"] = int(h.Kiosk.Idle / time.Second)
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	q.w.WriteHeader(status)
	if err := t.ExecuteTemplate(q.w, "layout", data); err != nil {
		h.Log.Warn("rendering a kiosk page", "page", name, "err", err)
	}
}

// fail shows an error as a kiosk page (or plain text before the kiosk is known).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, q *req, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong. Please ask a member of staff."
	var inv *errs.Invalid
	switch {
	case errors.Is(err, errs.ErrNotFound):
		status, msg = http.StatusNotFound, "We could not find that."
	case errors.Is(err, errs.ErrForbidden):
		status, msg = http.StatusForbidden, "That request was refused."
	case errors.As(err, &inv):
		status, msg = http.StatusUnprocessableEntity, inv.Reason
	default:
		h.Log.ErrorContext(r.Context(), "kiosk request failed", "path", r.URL.Path, "err", err)
	}
	if q == nil {
		http.Error(w, msg, status)
		return
	}
	h.render(q, status, "message", map[string]any{"Title": "Sorry", "Message": msg})
}

func (h *Handler) home(q *req) {
	arts, _, err := h.Knowledge.ListArticles(q.r.Context(), knowledge.ArticleFilter{Audience: knowledge.Kiosk, Limit: 100})
	if err != nil {
		h.fail(q.w, q.r, q, err)
		return
	}
	type group struct {
		Name     string
		Articles []*knowledge.Article
	}
	var groups []*group
	byName := map[string]*group{}
	for _, a := range arts {
		if a.Published == nil {
			continue
		}
		c := a.Published.Category
		if c == "" {
			c = "General"
		}
		if byName[c] == nil {
			byName[c] = &group{Name: c}
			groups = append(groups, byName[c])
		}
		byName[c].Articles = append(byName[c].Articles, a)
	}
	h.render(q, http.StatusOK, "home", map[string]any{"Groups": groups, "TimedOut": q.r.URL.Query().Get("timeout") != ""})
}

func (h *Handler) search(q *req) {
	text := strings.TrimSpace(q.r.URL.Query().Get("q"))
	var hits []knowledge.Hit
	if text != "" {
		var err error
		hits, err = h.Knowledge.Search(q.r.Context(), knowledge.Query{Text: text, Audience: knowledge.Kiosk, Limit: 20})
		if err != nil {
			h.fail(q.w, q.r, q, err)
			return
		}
	}
	h.render(q, http.StatusOK, "search", map[string]any{"Query": text, "Hits": hits, "Searched": text != "", "Keys": keyRows})
}

func (h *Handler) article(q *req) {
	aid, err := id.Parse(q.r.PathValue("article"))
	if err != nil {
		h.fail(q.w, q.r, q, errs.NotFoundf("article"))
		return
	}
	if err := h.ensure(q); err != nil {
		h.fail(q.w, q.r, q, err)
		return
	}
	rd, err := h.Kiosk.ShowArticle(q.r.Context(), q.sess, aid)
	if err != nil {
		h.fail(q.w, q.r, q, err)
		return
	}
	h.render(q, http.StatusOK, "article", map[string]any{"Article": rd})
}

func (h *Handler) identify(q *req) {
	h.render(q, http.StatusOK, "identify", nil)
}

// allowTry applies the per-kiosk limit on identification attempts.
func (h *Handler) allowTry(q *req) bool {
	if ok, _ := h.Tries.Allow(q.kiosk.ID.String()); ok {
		return true
	}
	h.render(q, http.StatusTooManyRequests, "message", map[string]any{"Title": "Please wait",
		"Message": "Too many tries at this kiosk. Please wait a minute and try again."})
	return false
}

func (h *Handler) sendCode(q *req) {
	if !h.allowTry(q) {
		return
	}
	if err := h.ensure(q); err != nil {
		h.fail(q.w, q.r, q, err)
		return
	}
	phone := q.r.FormValue("phone")
	// Demo only: no SMS provider, so the screen stands in for the phone.
	code, err := h.Kiosk.SendCode(q.r.Context(), q.sess, phone, q.isDemo && !h.Kiosk.CanText(q.kiosk))
	switch {
	case errors.Is(err, kioskdomain.ErrRateLimited):
		h.render(q, http.StatusTooManyRequests, "identify", map[string]any{"PhoneError": err.Error(), "Phone": phone})
		return
	case errors.Is(err, kioskdomain.ErrCannotText):
		h.render(q, http.StatusConflict, "identify", map[string]any{"PhoneError": err.Error(), "Phone": phone})
		return
	case errors.Is(err, kioskdomain.ErrTextFailed):
		h.render(q, http.StatusBadGateway, "identify", map[string]any{"PhoneError": err.Error(), "Phone": phone})
		return
	case err != nil:
		var inv *errs.Invalid
		if errors.As(err, &inv) {
			h.render(q, http.StatusUnprocessableEntity, "identify", map[string]any{"PhoneError": "Please check the number: " + inv.Reason, "Phone": phone})
			return
		}
		h.fail(q.w, q.r, q, err)
		return
	}
	data := map[string]any{"Phone": maskPhone(phone)}
	if code != "" {
		data["DemoCode"] = code
	}
	h.render(q, http.StatusOK, "code", data)
}

func (h *Handler) verifyCode(q *req) {
	if q.sess == nil {
		http.Redirect(q.w, q.r, q.base+"/identify", http.StatusSeeOther)
		return
	}
	if !h.allowTry(q) {
		return
	}
	_, err := h.Kiosk.Verify(q.r.Context(), q.sess, q.r.FormValue("code"))
	if err != nil {
		status := http.StatusUnprocessableEntity
		switch {
		case errors.Is(err, kioskdomain.ErrCodeWrong):
		case errors.Is(err, kioskdomain.ErrCodeExpired), errors.Is(err, kioskdomain.ErrLocked), errors.Is(err, kioskdomain.ErrNoCode):
			status = http.StatusGone
		default:
			h.fail(q.w, q.r, q, err)
			return
		}
		h.render(q, status, "code", map[string]any{"CodeError": err.Error(), "Dead": status == http.StatusGone})
		return
	}
	http.Redirect(q.w, q.r, q.base+"/me", http.StatusSeeOther)
}

func (h *Handler) card(q *req) {
	if !h.allowTry(q) {
		return
	}
	if err := h.ensure(q); err != nil {
		h.fail(q.w, q.r, q, err)
		return
	}
	_, err := h.Kiosk.IdentifyCard(q.r.Context(), q.sess, q.r.FormValue("card"))
	var inv *errs.Invalid
	if errors.As(err, &inv) {
		h.render(q, http.StatusUnprocessableEntity, "identify", map[string]any{"CardError": inv.Reason})
		return
	}
	if err != nil {
		h.fail(q.w, q.r, q, err)
		return
	}
	http.Redirect(q.w, q.r, q.base+"/me", http.StatusSeeOther)
}

func (h *Handler) me(q *req) {
	ov, err := h.Kiosk.Overview(q.r.Context(), q.sess)
	if err != nil {
		h.fail(q.w, q.r, q, err)
		return
	}
	place, err := h.Kiosk.Place(q.r.Context(), q.sess)
	if err != nil {
		h.fail(q.w, q.r, q, err)
		return
	}
	h.render(q, http.StatusOK, "me", map[string]any{"O": ov, "Place": place, "Done": q.r.URL.Query().Get("done")})
}

func (h *Handler) billCopy(q *req) {
	bill, err := id.Parse(q.r.FormValue("bill"))
	if err != nil {
		h.fail(q.w, q.r, q, errs.NotFoundf("bill"))
		return
	}
	if _, err := h.Kiosk.RequestBillCopy(q.r.Context(), q.sess, bill); err != nil {
		h.fail(q.w, q.r, q, err)
		return
	}
	http.Redirect(q.w, q.r, q.base+"/me?done=bill", http.StatusSeeOther)
}

func (h *Handler) checkIn(q *req) {
	if _, err := h.Kiosk.CheckIn(q.r.Context(), q.sess); err != nil {
		if errors.Is(err, kioskdomain.ErrNoWalkIns) {
			h.render(q, http.StatusConflict, "message", map[string]any{"Title": "Check-in", "Message": "Please ask at the counter: " + err.Error() + "."})
			return
		}
		h.fail(q.w, q.r, q, err)
		return
	}
	http.Redirect(q.w, q.r, q.base+"/me/queue", http.StatusSeeOther)
}

func (h *Handler) queue(q *req) {
	place, err := h.Kiosk.Place(q.r.Context(), q.sess)
	if err != nil {
		h.fail(q.w, q.r, q, err)
		return
	}
	if q.r.URL.Query().Get("partial") == "1" {
		// Only the place, which the script swaps in every few seconds.
		q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := h.pages["queue"].ExecuteTemplate(q.w, "place", map[string]any{"Place": place}); err != nil {
			h.Log.Warn("rendering the queue place", "err", err)
		}
		return
	}
	h.render(q, http.StatusOK, "queue", map[string]any{"Place": place})
}

func (h *Handler) callback(q *req) {
	if err := h.Kiosk.RequestCallback(q.r.Context(), q.sess); err != nil {
		h.fail(q.w, q.r, q, err)
		return
	}
	http.Redirect(q.w, q.r, q.base+"/me?done=callback", http.StatusSeeOther)
}

func (h *Handler) rate(q *req) {
	n, _ := strconv.Atoi(q.r.FormValue("stars"))
	if err := h.Kiosk.Rate(q.r.Context(), q.sess, n); err != nil {
		h.fail(q.w, q.r, q, err)
		return
	}
	http.Redirect(q.w, q.r, q.base+"/me?done=rating", http.StatusSeeOther)
}

// ping keeps the session alive while the visitor touches the screen
// without changing pages (Session extends it).
func (h *Handler) ping(q *req) { q.w.WriteHeader(http.StatusNoContent) }

// reset ends the session and forgets the cookie: the idle timer and the
// "Finish" button both land here.
func (h *Handler) reset(w http.ResponseWriter, r *http.Request) {
	cpID, err := id.Parse(r.PathValue("cp"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	base := "/kiosk/" + cpID.String()
	if !sameOrigin(r) {
		http.Error(w, "refused", http.StatusForbidden)
		return
	}
	if c, err := r.Cookie(cookieName); err == nil {
		if err := h.Kiosk.End(r.Context(), cpID, c.Value); err != nil {
			h.Log.Warn("ending a kiosk session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: base, MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, base, http.StatusSeeOther)
}

// maskPhone shows only the last digits of the number a code went to.
func maskPhone(p string) string {
	var d []rune
	for _, r := range p {
		if r >= '0' && r <= '9' {
			d = append(d, r)
		}
	}
	if len(d) < 4 {
		return "your phone"
	}
	return "•••• " + string(d[len(d)-4:])
}

// sameOrigin refuses posts that name another origin; SameSite=Strict on the
// cookie is the first line.
func sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" {
		return true
	}
	if src == "null" {
		return false
	}
	u, err := url.Parse(src)
	return err == nil && u.Host == r.Host
}

// setPageHeaders: no inline script, no caching of a customer's pages (the
// back button must not bring them back after a reset).
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	h.Set("Cache-Control", "no-store")
}

func parsePages() map[string]*template.Template {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	funcs := template.FuncMap{
		"money": func(minor int64, cur string) string {
			return cur + " " + strconv.FormatInt(minor/100, 10) + "." + strconv.FormatInt(100+minor%100, 10)[1:]
		},
		"day":   func(t time.Time) string { return t.Format("2 Jan 2006") },
		"label": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
		"seq": func(n int) []int {
			out := make([]int, n)
			for i := range out {
				out[i] = i + 1
			}
			return out
		},
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", f))
	}
	return pages
}
