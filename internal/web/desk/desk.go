// Package desk serves the agent desk: server-rendered pages for agents,
// supervisors, store and field staff and administrators, with a little plain
// JavaScript and Server-Sent Events for live updates. Handlers decode the
// form, call the domain services and render; they hold no logic of their own.
package desk

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/channel/mailbox"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/insight"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/outbox"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/web/ratelimit"
	"github.com/touchpoint-hub/touchpoint/internal/webhook"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Desk holds what the pages need.
type Desk struct {
	Log           *slog.Logger
	Access        *access.Service
	Customers     *customer.Service
	Interactions  *interaction.Service
	Cases         *cases.Service
	ContactPoints *contactpoint.Service
	Insight       *insight.Service
	Routing       *routing.Service // nil: no routed work on this node
	Bus           bus.Bus
	// Mail serves email attachments; nil on nodes without the email channel.
	Mail *mailbox.Service
	// Outbox shows and retries reply deliveries; Webhooks backs the webhook
	// administration. Either may be nil (the pages then say so).
	Outbox   *outbox.Service
	Webhooks *webhook.Service
	// Knowledge backs the knowledge pages and the case page's suggested answers.
	Knowledge *knowledge.Service
	// IsDemo tells the sign-in page to show the demo logins.
	IsDemo func(ctx context.Context) bool
	// SignIns limits sign-in attempts per client address.
	SignIns *ratelimit.Limiter

	pages map[string]func() (*template.Template, error) // see pageTemplates
}

// SessionCookie holds the desk session token.
const SessionCookie = "tp_session"

// Register adds the desk's routes.
func (d *Desk) Register(mux *http.ServeMux) {
	if d.SignIns == nil {
		d.SignIns = ratelimit.New(0.2, 10)
	}
	d.pages = pageTemplates()
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(time.Hour, files)))

	mux.HandleFunc("GET /signin", d.signInPage)
	mux.HandleFunc("POST /signin", d.signIn)
	mux.Handle("POST /signout", d.page("", d.signOut))
	mux.Handle("GET /account", d.page("", d.accountPage))
	mux.Handle("POST /account/password", d.page("", d.changePassword))

	mux.Handle("GET /{$}", d.page(access.ReadCases, d.inbox))
	mux.Handle("GET /cases/{id}", d.page(access.ReadCases, d.casePage))
	mux.Handle("POST /cases", d.page(access.WriteCases, d.createCase))
	mux.Handle("POST /cases/{id}/update", d.page(access.WriteCases, d.updateCase))
	mux.Handle("POST /cases/{id}/reply", d.page(access.WriteCases, d.reply))
	mux.Handle("POST /cases/{id}/note", d.page(access.WriteCases, d.addNote))
	mux.Handle("POST /cases/{id}/merge", d.page(access.WriteCases, d.mergeCase))
	mux.Handle("POST /cases/{id}/split", d.page(access.WriteCases, d.splitCase))
	mux.Handle("POST /cases/{id}/move", d.page(access.WriteCases, d.moveInteraction))
	mux.Handle("POST /cases/{id}/retry", d.page(access.WriteCases, d.retryDelivery))
	mux.Handle("POST /cases/{id}/presence", d.page(access.ReadCases, d.presence))
	mux.Handle("GET /attachments/{id}", d.page(access.ReadCases, d.attachment))
	mux.Handle("GET /customers", d.page(access.ReadCustomers, d.customerSearch))
	mux.Handle("GET /customers/{id}", d.page(access.ReadCustomers, d.customerPage))
	mux.Handle("GET /events", d.page("", d.events))
	mux.Handle("GET /staffing", d.page(access.ReadStats, d.staffingPage))
	d.registerMore(mux)
	d.registerKnowledge(mux)
	if d.Routing != nil {
		d.registerWork(mux)
	}
}

// cacheFor sets a cache lifetime on static files.
func cacheFor(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age="+itoa(int64(d/time.Second)))
		next.ServeHTTP(w, r)
	})
}

// viewer is the signed-in user of a request.
type viewer struct {
	User    *access.User
	Session *access.Session
	CSRF    string
	Teams   []id.ID
	Agent   *routing.Agent      // the viewer's routing row, nil if they take no routed work
	Work    []*routing.WorkItem // the routed work the viewer has accepted and not finished
}

func (v *viewer) actor() cases.Actor { return cases.Actor{UserID: v.User.ID, Name: v.User.Name} }

// Can tells templates whether the viewer has a permission.
func (v *viewer) Can(p string) bool { return v.User.Role.Can(access.Permission(p)) }

type ctxKey struct{}

// page wraps a handler: it needs a session (else the sign-in page), the
// permission perm ("" = any signed-in user), and on unsafe methods a valid
// CSRF token and a same-origin request.
func (d *Desk) page(perm access.Permission, h func(http.ResponseWriter, *http.Request, *viewer)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		c, err := r.Cookie(SessionCookie)
		var sess *access.Session
		if err == nil {
			sess, err = d.Access.SessionByToken(r.Context(), c.Value)
		}
		if err != nil || sess == nil {
			if r.Method == http.MethodGet && r.Header.Get("Accept") != "text/event-stream" {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "Your session has ended. Sign in again.", http.StatusUnauthorized)
			return
		}
		v := &viewer{User: sess.User, Session: sess, CSRF: access.CSRFToken(c.Value)}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if !sameOrigin(r) {
				http.Error(w, "This form was sent from another site and was refused.", http.StatusForbidden)
				return
			}
			presented := r.Header.Get("X-CSRF-Token")
			if presented == "" {
				presented = r.PostFormValue("csrf")
			}
			if !access.CheckCSRF(c.Value, presented) {
				http.Error(w, "This form has expired or did not come from this desk. Reload the page and try again.", http.StatusForbidden)
				return
			}
		}
		if perm != "" && !sess.User.Role.Can(perm) {
			w.WriteHeader(http.StatusForbidden)
			d.render(w, r, "error", v, map[string]any{"Title": "Not allowed", "Message": "Your role (" + string(sess.User.Role) + ") may not open this page."})
			return
		}
		v.Teams, _ = d.Access.TeamsOf(r.Context(), sess.User.ID)
		v.Agent = d.routingAgent(r, v)
		if v.Agent != nil {
			v.Work, _ = d.Routing.ListItems(r.Context(), routing.ItemQuery{State: routing.StateAssigned, AgentID: v.User.ID, Limit: 20})
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, v)), v)
	})
}

// sameOrigin refuses unsafe requests whose Origin (or Referer) names another
// host: a second line behind the CSRF token.
func sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" || src == "null" {
		return src == ""
	}
	u, err := url.Parse(src)
	return err == nil && u.Host == r.Host
}

// setPageHeaders: no inline script may run, so customer content that slipped
// through sanitizing still could not execute.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	h.Set("Cache-Control", "no-store")
}

// render writes a page (or, with ?partial=live, controls or assist, only
// that region, which the page's script swaps in when a live event says so).
func (d *Desk) render(w http.ResponseWriter, r *http.Request, name string, v *viewer, data map[string]any) {
	t, err := d.pageTemplate(name)
	if err != nil {
		d.Log.Error("page template", "page", name, "err", err)
		http.Error(w, "The page could not be shown; the error has been logged.", http.StatusInternalServerError)
		return
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Viewer"] = v
	data["Path"] = r.URL.Path
	block := "layout"
	if p := r.URL.Query().Get("partial"); (p == "live" || p == "controls" || p == "assist") && t.Lookup(p) != nil {
		block = p
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		d.Log.Error("rendering a page", "page", name, "err", err)
		http.Error(w, "The page could not be shown; the error has been logged.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(buf.String()))
}

// pageTemplate returns a page's template, parsed on its first use.
func (d *Desk) pageTemplate(name string) (*template.Template, error) {
	parse := d.pages[name]
	if parse == nil {
		return nil, fmt.Errorf("no page template %q", name)
	}
	return parse()
}

// renderBlock writes one block of a page template, without the layout
// (fragments that the page's script fetches).
func (d *Desk) renderBlock(w http.ResponseWriter, r *http.Request, page, block string, v *viewer, data map[string]any) {
	t, err := d.pageTemplate(page)
	if err != nil || t.Lookup(block) == nil {
		d.Log.Error("fragment template", "page", page, "block", block, "err", err)
		http.Error(w, "fragment missing", http.StatusInternalServerError)
		return
	}
	data["Viewer"] = v
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		d.Log.Error("rendering a fragment", "page", page, "block", block, "err", err)
		http.Error(w, "The fragment could not be shown; the error has been logged.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(buf.String()))
}

// fail shows a domain error as a page: bad input explained, not a crash.
func (d *Desk) fail(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on our side; it has been logged."
	var inv *errs.Invalid
	var batch *errs.Batch
	switch {
	case errors.As(err, &inv), errors.As(err, &batch):
		status, msg = http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, errs.ErrNotFound):
		status, msg = http.StatusNotFound, "Not found: "+err.Error()
	case errors.Is(err, errs.ErrConflict):
		status, msg = http.StatusConflict, err.Error()
	case errors.Is(err, errs.ErrForbidden):
		status, msg = http.StatusForbidden, err.Error()
	default:
		d.Log.Error("desk request failed", "path", r.URL.Path, "err", err)
	}
	if r.Header.Get("X-Requested-With") == "fetch" {
		http.Error(w, msg, status)
		return
	}
	w.WriteHeader(status)
	d.render(w, r, "error", v, map[string]any{"Title": http.StatusText(status), "Message": msg, "Back": r.Referer()})
}

func pathID(r *http.Request) (id.ID, error) {
	v, err := id.Parse(r.PathValue("id"))
	if err != nil {
		return 0, errs.Invalidf("id", "%q is not an id", r.PathValue("id"))
	}
	return v, nil
}

// back redirects to a local path after a form (never to another site).
func back(w http.ResponseWriter, r *http.Request, fallback string) {
	to := r.PostFormValue("next")
	if to == "" || !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") || strings.Contains(to, "\\") {
		to = fallback
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func errInvalid(field, reason string) error { return errs.Invalidf(field, "%s", reason) }

// teams lists the teams and their names by id.
func (d *Desk) teams(ctx context.Context) ([]*access.Team, map[id.ID]string, error) {
	teams, err := d.Access.ListTeams(ctx)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[id.ID]string, len(teams))
	for _, t := range teams {
		names[t.ID] = t.Name
	}
	return teams, names, nil
}

// userNames are the users' names by id.
func (d *Desk) userNames(ctx context.Context) (map[id.ID]string, error) {
	users, err := d.Access.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[id.ID]string, len(users))
	for _, u := range users {
		names[u.ID] = u.Name
	}
	return names, nil
}
