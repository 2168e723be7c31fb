package desk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// ---- A server, its users and their browsers ----

type testEnv struct {
	t     *testing.T
	ctx   context.Context
	s     *app.Services
	srv   *httptest.Server
	users int
}

// eachEnv runs fn against a fresh server on SQLite and, when
// TOUCHPOINT_TEST_POSTGRES is set, on PostgreSQL.
func eachEnv(t *testing.T, fn func(t *testing.T, e *testEnv)) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := app.NewServices(db, "US")
		srv := httptest.NewServer(s.Handler(slog.New(slog.DiscardHandler), app.Limits{}))
		t.Cleanup(srv.Close)
		fn(t, &testEnv{t: t, ctx: context.Background(), s: s, srv: srv})
	})
}

const password = "correct horse battery"

// user adds a user of the role.
func (e *testEnv) user(role access.Role, name string) *access.User {
	e.t.Helper()
	e.users++
	u, err := e.s.Access.CreateUser(e.ctx, fmt.Sprintf("%s%d@example.com", role, e.users), name, role, password, "test")
	if err != nil {
		e.t.Fatalf("creating a %s: %v", role, err)
	}
	return u
}

// browser is one signed-in (or not) client with its cookies.
type browser struct {
	t    *testing.T
	e    *testEnv
	hc   *http.Client
	csrf string
}

func (e *testEnv) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{t: e.t, e: e, hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signIn signs u in through the sign-in form and reads the page's CSRF token.
func (e *testEnv) signIn(u *access.User) *browser {
	e.t.Helper()
	b := e.browser()
	res := b.send("POST", "/signin", url.Values{"email": {u.Email}, "password": {password}}, e.srv.URL, nil)
	if res.status != http.StatusSeeOther {
		e.t.Fatalf("signing in %s: status %d\n%s", u.Email, res.status, res.body)
	}
	page := b.get("/account")
	if page.status != http.StatusOK {
		e.t.Fatalf("account page after signing in: %d", page.status)
	}
	walk(parse(e.t, page.body), func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "body" {
			b.csrf, _ = attr(n, "data-csrf")
		}
	})
	if b.csrf == "" {
		e.t.Fatal("no CSRF token on the page")
	}
	return b
}

// sessionCookie is the browser's session token.
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == "tp_session" {
			return c.Value
		}
	}
	return ""
}

type response struct {
	status   int
	body     string
	header   http.Header
	location string
}

// send makes a request as a browser would, with exactly these form fields
// and this Origin ("" sends none); extra headers are added.
func (b *browser) send(method, path string, form url.Values, origin string, extra http.Header) response {
	b.t.Helper()
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for k, vs := range extra {
		req.Header[k] = vs
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(raw), header: res.Header, location: res.Header.Get("Location")}
}

func (b *browser) get(path string) response { return b.send("GET", path, nil, "", nil) }

// post sends a form from this desk: same origin, with the session's token.
func (b *browser) post(path string, form url.Values) response {
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("csrf", b.csrf)
	return b.send("POST", path, f, b.e.srv.URL, nil)
}

// ---- HTML ----

func parse(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the page: %v", err)
	}
	return doc
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key && a.Namespace == "" {
			return a.Val, true
		}
	}
	return "", false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

// formValues is what a browser would send for the form posting to action,
// untouched: hidden and text fields, checked boxes, selected options.
func formValues(t *testing.T, body, action string) url.Values {
	t.Helper()
	var form *html.Node
	walk(parse(t, body), func(n *html.Node) {
		a, _ := attr(n, "action")
		a, _, _ = strings.Cut(a, "#")
		if n.Type == html.ElementNode && n.Data == "form" && a == action && form == nil {
			form = n
		}
	})
	if form == nil {
		t.Fatalf("no form posting to %s on the page", action)
	}
	v := url.Values{}
	walk(form, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		name, ok := attr(n, "name")
		if !ok {
			return
		}
		switch n.Data {
		case "input":
			typ, _ := attr(n, "type")
			val, _ := attr(n, "value")
			_, checked := attr(n, "checked")
			if (typ != "radio" && typ != "checkbox") || checked {
				v.Add(name, val)
			}
		case "textarea":
			v.Add(name, textOf(n))
		case "select":
			first, chosen := "", ""
			found := false
			walk(n, func(o *html.Node) {
				if o.Type != html.ElementNode || o.Data != "option" {
					return
				}
				val, _ := attr(o, "value")
				if !found && first == "" {
					first = val
				}
				if _, sel := attr(o, "selected"); sel && !found {
					chosen, found = val, true
				}
			})
			if !found {
				chosen = first
			}
			v.Add(name, chosen)
		}
	})
	return v
}

// unsafeURL tells whether a URL attribute would run script when followed.
func unsafeURL(v string) bool {
	s := strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1 // browsers drop these around and inside a scheme
		}
		return r
	}, strings.ToLower(v))
	return strings.HasPrefix(s, "javascript:") || strings.HasPrefix(s, "vbscript:") || strings.HasPrefix(s, "data:text/html")
}

var urlAttrs = []string{"href", "src", "action", "formaction", "xlink:href", "poster", "background", "cite", "data", "srcset", "ping"}

// scriptProblems lists what could run script on a page: any script but the
// desk's own file, event handler attributes, script URLs, frames and the like.
func scriptProblems(doc *html.Node) []string {
	var out []string
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "script":
			src, _ := attr(n, "src")
			if src != "/static/desk.js" || strings.TrimSpace(textOf(n)) != "" {
				out = append(out, fmt.Sprintf("<script src=%q> with %q", src, textOf(n)))
			}
		case "iframe", "frame", "object", "embed", "base", "applet":
			out = append(out, "<"+n.Data+"> element")
		case "meta":
			if _, ok := attr(n, "http-equiv"); ok {
				out = append(out, "<meta http-equiv>")
			}
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			if strings.HasPrefix(key, "on") {
				out = append(out, fmt.Sprintf("<%s %s=%q>", n.Data, a.Key, a.Val))
			}
			if slices.Contains(urlAttrs, key) && unsafeURL(a.Val) {
				out = append(out, fmt.Sprintf("<%s %s=%q>", n.Data, a.Key, a.Val))
			}
		}
	})
	return out
}

// ---- Data ----

type fixture struct {
	email, store, phone id.ID // contact points
	cust                id.ID // a customer with two open cases
	caseID, otherCase   id.ID
	onCase              id.ID // an interaction on caseID
	team                id.ID
	target              *access.User // a user to change
}

func (e *testEnv) contactPoint(kind, name string) id.ID {
	e.t.Helper()
	k := contactpoint.Kind(kind)
	cp, err := e.s.ContactPoints.Create(e.ctx, contactpoint.Spec{Kind: &k, Name: &name})
	if err != nil {
		e.t.Fatal(err)
	}
	return cp.ID
}

func (e *testEnv) customer(name, email string) id.ID {
	e.t.Helper()
	c, _, err := e.s.Customers.Create(e.ctx, customer.Profile{Name: &name,
		Identifiers: []customer.RawIdentifier{{Kind: "email", Value: email}}}, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}

func (e *testEnv) record(in interaction.Input) interaction.Result {
	e.t.Helper()
	res, err := e.s.Interactions.Record(e.ctx, []interaction.Input{in})
	if err != nil {
		e.t.Fatalf("recording: %v", err)
	}
	return res[0]
}

func (e *testEnv) fixture() *fixture {
	e.t.Helper()
	f := &fixture{email: e.contactPoint("email", "support@example.com"), store: e.contactPoint("store", "Main Street store"),
		phone: e.contactPoint("phone", "Support line")}
	f.cust = e.customer("Ann Smith", "ann@example.com")
	r := e.record(interaction.Input{CustomerID: f.cust, ContactPointID: f.email, Kind: "email", Subject: "Where is my order?",
		Content: "It has not arrived.", Source: "test", ExternalID: "m-1"})
	if r.CaseID == nil {
		e.t.Fatal("the email opened no case")
	}
	f.caseID, f.onCase = *r.CaseID, r.ID
	c, err := e.s.Cases.Create(e.ctx, cases.Actor{Name: "test"}, cases.NewCase{CustomerID: f.cust, Subject: "Invoice question"})
	if err != nil {
		e.t.Fatal(err)
	}
	f.otherCase = c.ID
	team, err := e.s.Access.CreateTeam(e.ctx, "Store staff", "", "test")
	if err != nil {
		e.t.Fatal(err)
	}
	f.team = team.ID
	f.target = e.user(access.Agent, "Target User")
	return f
}

// staffLogs lists the contacts logged through the staff view for a customer.
func (e *testEnv) staffLogs(cust id.ID) []*interaction.Interaction {
	e.t.Helper()
	page, err := e.s.Interactions.Timeline(e.ctx, cust, interaction.TimelineQuery{Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*interaction.Interaction
	for _, it := range page.Items {
		if it.Source == "staff" {
			out = append(out, it)
		}
	}
	return out
}

// ---- Routes ----

// deskRoute is a route of the desk, the permission it needs ("" any signed-in
// user, "public" nobody), and a form that would succeed for an admin.
type deskRoute struct {
	pattern string // as registered
	perm    access.Permission
	path    func(f *fixture) string
	form    func(f *fixture) url.Values
}

func fixed(p string) func(*fixture) string { return func(*fixture) string { return p } }

func caseRoute(suffix string) func(*fixture) string {
	return func(f *fixture) string { return "/cases/" + f.caseID.String() + suffix }
}

func noForm(*fixture) url.Values { return url.Values{} }

func deskRoutes() []deskRoute {
	return []deskRoute{
		{"GET /static/", "public", fixed("/static/desk.css"), nil},
		{"GET /signin", "public", fixed("/signin"), nil},
		{"POST /signin", "public", fixed("/signin"), nil},
		{"POST /signout", "", fixed("/signout"), noForm},
		{"GET /account", "", fixed("/account"), nil},
		{"POST /account/password", "", fixed("/account/password"), func(*fixture) url.Values {
			return url.Values{"current_password": {password}, "new_password": {"another fine password"}, "new_password_again": {"another fine password"}}
		}},
		{"GET /{$}", access.ReadCases, fixed("/"), nil},
		{"GET /staffing", access.ReadStats, fixed("/staffing"), nil},
		{"POST /presence", access.RoutingWork, fixed("/presence"), func(*fixture) url.Values { return url.Values{"presence": {"available"}} }},
		{"GET /work/{id}", access.RoutingWork, fixed("/work/1"), nil},
		{"POST /work/{id}/accept", access.RoutingWork, fixed("/work/1/accept"), noForm},
		{"POST /work/{id}/decline", access.RoutingWork, fixed("/work/1/decline"), noForm},
		{"POST /work/{id}/complete", access.RoutingWork, fixed("/work/1/complete"), noForm},
		{"GET /wallboard", access.RoutingManage, fixed("/wallboard"), nil},
		{"POST /wallboard/agents/{id}/presence", access.RoutingManage, fixed("/wallboard/agents/1/presence"), func(*fixture) url.Values { return url.Values{"presence": {"away"}} }},
		{"GET /cases/{id}", access.ReadCases, caseRoute(""), nil},
		{"POST /cases", access.WriteCases, fixed("/cases"), func(f *fixture) url.Values {
			return url.Values{"customer_id": {f.cust.String()}, "subject": {"Opened by a forged form"}}
		}},
		{"POST /cases/{id}/update", access.WriteCases, caseRoute("/update"), func(*fixture) url.Values {
			return url.Values{"priority": {"urgent"}, "orig_priority": {"normal"}}
		}},
		{"POST /cases/{id}/reply", access.WriteCases, caseRoute("/reply"), func(f *fixture) url.Values {
			return url.Values{"contact_point_id": {f.email.String()}, "body": {"Forged reply"}, "idempotency_key": {"forged-reply"}}
		}},
		{"POST /cases/{id}/note", access.WriteCases, caseRoute("/note"), func(*fixture) url.Values {
			return url.Values{"body": {"Forged note"}}
		}},
		{"POST /cases/{id}/merge", access.WriteCases, caseRoute("/merge"), func(f *fixture) url.Values {
			return url.Values{"into": {f.otherCase.String()}}
		}},
		{"POST /cases/{id}/split", access.WriteCases, caseRoute("/split"), func(f *fixture) url.Values {
			return url.Values{"subject": {"Forged split"}, "interaction_id": {f.onCase.String()}}
		}},
		{"POST /cases/{id}/move", access.WriteCases, func(f *fixture) string { return "/cases/" + f.otherCase.String() + "/move" },
			func(f *fixture) url.Values { return url.Values{"interaction_id": {f.onCase.String()}} }},
		{"POST /cases/{id}/presence", access.ReadCases, caseRoute("/presence"), func(*fixture) url.Values {
			return url.Values{"state": {"viewing"}}
		}},
		{"POST /cases/{id}/retry", access.WriteCases, caseRoute("/retry"), func(f *fixture) url.Values {
			return url.Values{"interaction_id": {f.onCase.String()}}
		}},
		{"GET /attachments/{id}", access.ReadCases, fixed("/attachments/1"), nil},
		{"GET /customers", access.ReadCustomers, fixed("/customers?q=ann"), nil},
		{"GET /customers/{id}", access.ReadCustomers, func(f *fixture) string { return "/customers/" + f.cust.String() }, nil},
		{"GET /events", "", fixed("/events?topics=inbox"), nil},

		{"GET /staff", access.ReadCustomers, fixed("/staff?q=ann"), nil},
		{"GET /staff/customers/{id}", access.ReadCustomers, func(f *fixture) string { return "/staff/customers/" + f.cust.String() }, nil},
		{"POST /staff/customers/{id}/log", access.WriteInteractions, func(f *fixture) string { return "/staff/customers/" + f.cust.String() + "/log" },
			func(f *fixture) url.Values {
				return url.Values{"contact_point_id": {f.store.String()}, "what": {"visit"}, "outcome": {"resolved"}, "key": {"forgedformkey1"}}
			}},
		{"GET /admin", "", fixed("/admin"), nil},
		{"GET /admin/users", access.ManageAccess, fixed("/admin/users"), nil},
		{"POST /admin/users", access.ManageAccess, fixed("/admin/users"), func(*fixture) url.Values {
			return url.Values{"email": {"forged@example.com"}, "name": {"Forged"}, "role": {"admin"}, "password": {"forged password 1"}}
		}},
		{"POST /admin/users/{id}", access.ManageAccess, func(f *fixture) string { return "/admin/users/" + f.target.ID.String() },
			func(*fixture) url.Values { return url.Values{"role": {"admin"}, "orig_role": {"agent"}} }},
		{"GET /admin/teams", access.ManageAccess, fixed("/admin/teams"), nil},
		{"POST /admin/teams", access.ManageAccess, fixed("/admin/teams"), func(*fixture) url.Values {
			return url.Values{"name": {"Forged team"}}
		}},
		{"POST /admin/teams/{id}", access.ManageAccess, func(f *fixture) string { return "/admin/teams/" + f.team.String() },
			func(f *fixture) url.Values {
				return url.Values{"name": {"Renamed by forgery"}, "members_present": {"1"}, "member": {f.target.ID.String()}}
			}},
		{"GET /admin/reasons", access.ManageCases, fixed("/admin/reasons"), nil},
		{"POST /admin/reasons", access.ManageCases, fixed("/admin/reasons"), func(*fixture) url.Values {
			return url.Values{"new": {"1"}, "code": {"forged"}, "name": {"Forged"}}
		}},
		{"GET /admin/canned", access.ManageCases, fixed("/admin/canned"), nil},
		{"POST /admin/canned", access.ManageCases, fixed("/admin/canned"), func(*fixture) url.Values {
			return url.Values{"name": {"Forged"}, "body": {"Forged text"}}
		}},
		{"GET /admin/sla", access.ManageCases, fixed("/admin/sla"), nil},
		{"POST /admin/sla", access.ManageCases, fixed("/admin/sla"), func(*fixture) url.Values {
			return url.Values{"name": {"Forged"}, "first_minutes": {"1"}}
		}},
		{"GET /admin/contact-points", access.ManageContactPoint, fixed("/admin/contact-points"), nil},
		{"POST /admin/contact-points", access.ManageContactPoint, fixed("/admin/contact-points"), func(*fixture) url.Values {
			return url.Values{"kind": {"sms"}, "name": {"Forged line"}}
		}},
		{"GET /admin/contact-points/{id}", access.ManageContactPoint, func(f *fixture) string { return "/admin/contact-points/" + f.email.String() }, nil},
		{"POST /admin/contact-points/{id}", access.ManageContactPoint, func(f *fixture) string { return "/admin/contact-points/" + f.email.String() },
			func(*fixture) url.Values {
				return url.Values{"name": {"Forged"}, "contact_level": {"low"}, "secret.smtp_password": {"forged"}}
			}},
		{"GET /admin/webhooks", access.ManageWebhooks, fixed("/admin/webhooks"), nil},
		{"POST /admin/webhooks", access.ManageWebhooks, fixed("/admin/webhooks"), func(*fixture) url.Values {
			return url.Values{"name": {"Forged"}, "url": {"https://evil.example/hook"}, "events": {"*"}}
		}},
		{"GET /admin/webhooks/{id}", access.ManageWebhooks, fixed("/admin/webhooks/1"), nil},
		{"POST /admin/webhooks/{id}", access.ManageWebhooks, fixed("/admin/webhooks/1"), func(*fixture) url.Values {
			return url.Values{"name": {"Forged"}, "url": {"https://evil.example/hook"}, "events": {"*"}}
		}},
		{"POST /admin/webhooks/{id}/active", access.ManageWebhooks, fixed("/admin/webhooks/1/active"), func(*fixture) url.Values {
			return url.Values{"active": {"false"}}
		}},
		{"POST /admin/webhooks/{id}/secret", access.ManageWebhooks, fixed("/admin/webhooks/1/secret"), noForm},
		{"POST /admin/webhooks/{id}/ping", access.ManageWebhooks, fixed("/admin/webhooks/1/ping"), noForm},
		{"POST /admin/webhooks/{id}/deliveries/{delivery_id}/replay", access.ManageWebhooks, fixed("/admin/webhooks/1/deliveries/1/replay"), noForm},

		{"GET /knowledge", access.KnowledgeRead, fixed("/knowledge?q=ship&status=published"), nil},
		{"GET /knowledge/gaps", access.KnowledgeRead, fixed("/knowledge/gaps"), nil},
		{"GET /knowledge/consistency", access.ManageCases, fixed("/knowledge/consistency"), nil},
		{"GET /knowledge/articles/new", access.KnowledgeWrite, fixed("/knowledge/articles/new"), nil},
		{"POST /knowledge/articles", access.KnowledgeWrite, fixed("/knowledge/articles"), func(*fixture) url.Values {
			return url.Values{"slug": {"forged"}, "locale": {"en"}, "title": {"Forged"}, "body": {"Forged"}, "audience": {"public"}}
		}},
		{"GET /knowledge/articles/{id}", access.KnowledgeRead, fixed("/knowledge/articles/1"), nil},
		{"POST /knowledge/articles/{id}", access.KnowledgeWrite, fixed("/knowledge/articles/1"), func(*fixture) url.Values {
			return url.Values{"title": {"Forged"}, "body": {"Forged"}, "audience": {"public"}}
		}},
		{"POST /knowledge/articles/{id}/versions/{version}/submit", access.KnowledgeWrite, fixed("/knowledge/articles/1/versions/1/submit"), noForm},
		{"POST /knowledge/articles/{id}/versions/{version}/withdraw", access.KnowledgeWrite, fixed("/knowledge/articles/1/versions/1/withdraw"), noForm},
		{"POST /knowledge/articles/{id}/versions/{version}/publish", access.KnowledgePublish, fixed("/knowledge/articles/1/versions/1/publish"), noForm},
		{"GET /knowledge/articles/{id}/diff", access.KnowledgeRead, fixed("/knowledge/articles/1/diff?from=1&to=2"), nil},
		{"GET /knowledge/facts/new", access.KnowledgeWrite, fixed("/knowledge/facts/new"), nil},
		{"POST /knowledge/facts", access.KnowledgeWrite, fixed("/knowledge/facts"), func(*fixture) url.Values {
			return url.Values{"name": {"forged.fact"}, "value": {"Forged"}}
		}},
		{"GET /knowledge/facts/{id}", access.KnowledgeRead, fixed("/knowledge/facts/1"), nil},
		{"POST /knowledge/facts/{id}", access.KnowledgeWrite, fixed("/knowledge/facts/1"), func(*fixture) url.Values {
			return url.Values{"value": {"Forged"}}
		}},
		{"POST /knowledge/facts/{id}/versions/{version}/submit", access.KnowledgeWrite, fixed("/knowledge/facts/1/versions/1/submit"), noForm},
		{"POST /knowledge/facts/{id}/versions/{version}/withdraw", access.KnowledgeWrite, fixed("/knowledge/facts/1/versions/1/withdraw"), noForm},
		{"POST /knowledge/facts/{id}/versions/{version}/publish", access.KnowledgePublish, fixed("/knowledge/facts/1/versions/1/publish"), noForm},
		{"GET /knowledge/facts/{id}/diff", access.KnowledgeRead, fixed("/knowledge/facts/1/diff?from=1&to=2"), nil},
		{"POST /knowledge/facts/{id}/corrections", access.WriteCases, fixed("/knowledge/facts/1/corrections"), func(*fixture) url.Values {
			return url.Values{"days": {"30"}}
		}},
	}
}

var routeRE = regexp.MustCompile(`mux\.Handle(?:Func)?\("([A-Z]+ [^"]+)"`)

// TestRouteTableIsComplete keeps the tables below honest: every route the
// desk registers is in deskRoutes, so each is checked for sign-in,
// permission and CSRF. A new route fails here until it is added.
func TestRouteTableIsComplete(t *testing.T) {
	var registered []string
	for _, f := range []string{"desk.go", "more.go", "work.go", "knowledge.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range routeRE.FindAllStringSubmatch(string(src), -1) {
			registered = append(registered, m[1])
		}
	}
	if len(registered) < 20 {
		t.Fatalf("found only %d routes in desk.go and more.go; has registration moved?", len(registered))
	}
	var listed []string
	for _, r := range deskRoutes() {
		listed = append(listed, r.pattern)
	}
	for _, p := range registered {
		if !slices.Contains(listed, p) {
			t.Errorf("route %q is registered but not in deskRoutes: add it with its permission", p)
		}
	}
	for _, p := range listed {
		if !slices.Contains(registered, p) {
			t.Errorf("deskRoutes lists %q, which is not registered", p)
		}
	}
}

func TestSignedOutIsSentToSignIn(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		f := e.fixture()
		b := e.browser()
		for _, r := range deskRoutes() {
			if r.perm == "public" {
				continue
			}
			method, _, _ := strings.Cut(r.pattern, " ")
			path := r.path(f)
			if method == "GET" {
				res := b.get(path)
				if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/signin?next=") {
					t.Errorf("signed out GET %s: %d to %q, want 303 to /signin", path, res.status, res.location)
				}
				if next, _ := url.Parse(res.location); next != nil && next.Query().Get("next") != path {
					t.Errorf("signed out GET %s: next=%q, want the page asked for", path, next.Query().Get("next"))
				}
				continue
			}
			res := b.send("POST", path, r.form(f), e.srv.URL, nil)
			if res.status != http.StatusUnauthorized {
				t.Errorf("signed out POST %s: %d, want 401", path, res.status)
			}
		}
		if res := b.get("/"); res.location != "/signin?next=%2F" {
			t.Errorf("GET / signed out goes to %q", res.location)
		}
		if res := b.get("/signin"); res.status != http.StatusOK || !strings.Contains(res.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("sign-in page: %d, CSP %q", res.status, res.header.Get("Content-Security-Policy"))
		}
		if n := len(e.staffLogs(f.cust)); n != 0 {
			t.Errorf("signed-out posts logged %d contacts", n)
		}
	})
}

func TestSignIn(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		u := e.user(access.Agent, "Ann Agent")
		b := e.browser()

		res := b.send("POST", "/signin", url.Values{"email": {u.Email}, "password": {"not the password"}}, e.srv.URL, nil)
		if res.status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d, want 401", res.status)
		}
		if !strings.Contains(textOf(parse(t, res.body)), "That email and password do not match an active user.") {
			t.Errorf("wrong password page does not say why:\n%s", res.body)
		}
		for _, c := range res.header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "tp_session=") {
				t.Errorf("wrong password set a session cookie: %s", c)
			}
		}
		if b.sessionCookie() != "" {
			t.Error("wrong password left a session cookie in the browser")
		}
		if res := b.get("/"); res.status != http.StatusSeeOther {
			t.Errorf("after a wrong password GET / is %d, want a redirect to sign in", res.status)
		}

		// A sign-in form posted from another site is refused.
		res = b.send("POST", "/signin", url.Values{"email": {u.Email}, "password": {password}}, "https://evil.example", nil)
		if res.status != http.StatusForbidden || b.sessionCookie() != "" {
			t.Errorf("foreign-origin sign-in: %d, cookie %q", res.status, b.sessionCookie())
		}

		// The right password signs in and returns to the page asked for.
		res = b.send("POST", "/signin", url.Values{"email": {u.Email}, "password": {password}, "next": {"/customers"}}, e.srv.URL, nil)
		if res.status != http.StatusSeeOther || res.location != "/customers" || b.sessionCookie() == "" {
			t.Fatalf("sign-in: %d to %q, cookie %q", res.status, res.location, b.sessionCookie())
		}
		// ... but never to another site.
		b2 := e.browser()
		res = b2.send("POST", "/signin", url.Values{"email": {u.Email}, "password": {password}, "next": {"//evil.example/"}}, e.srv.URL, nil)
		if res.location != "/" {
			t.Errorf("sign-in with next=//evil.example/ redirects to %q", res.location)
		}
	})
}

func TestSignOutEndsSession(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		b := e.signIn(e.user(access.Agent, "Ann Agent"))
		token := b.sessionCookie()
		if res := b.get("/"); res.status != http.StatusOK {
			t.Fatalf("inbox before signing out: %d", res.status)
		}
		res := b.post("/signout", nil)
		if res.status != http.StatusSeeOther || res.location != "/signin" {
			t.Fatalf("sign-out: %d to %q", res.status, res.location)
		}
		if b.sessionCookie() != "" {
			t.Error("sign-out left the cookie in the browser")
		}
		// Someone who kept the old cookie gets nothing with it.
		old := e.browser()
		u, _ := url.Parse(e.srv.URL)
		old.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "tp_session", Value: token, Path: "/"}})
		if res := old.get("/"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/signin") {
			t.Errorf("old cookie after sign-out: GET / is %d to %q, want a redirect to /signin", res.status, res.location)
		}
		if res := old.send("POST", "/cases", url.Values{"csrf": {b.csrf}}, e.srv.URL, nil); res.status != http.StatusUnauthorized {
			t.Errorf("old cookie after sign-out: POST is %d, want 401", res.status)
		}
	})
}

func TestRoutesRefuseRolesWithoutPermission(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		f := e.fixture()
		roles := []access.Role{access.Admin, access.Supervisor, access.Agent, access.Staff, access.Analyst}
		browsers := map[access.Role]*browser{}
		for _, r := range roles {
			browsers[r] = e.signIn(e.user(r, "A "+string(r)))
		}
		tried := 0
		for _, route := range deskRoutes() {
			if route.perm == "" || route.perm == "public" {
				continue
			}
			method, _, _ := strings.Cut(route.pattern, " ")
			for _, role := range roles {
				if role.Can(route.perm) {
					continue
				}
				b := browsers[role]
				var res response
				if method == "GET" {
					res = b.get(route.path(f))
				} else {
					res = b.post(route.path(f), route.form(f))
				}
				tried++
				if res.status != http.StatusForbidden {
					t.Errorf("%s %s as %s (without %s): %d, want 403", method, route.path(f), role, route.perm, res.status)
					continue
				}
				if !strings.Contains(res.body, "may not open this page") {
					t.Errorf("%s %s as %s: the 403 page does not say why", method, route.path(f), role)
				}
			}
		}
		if tried < 20 {
			t.Errorf("only %d refusals tried", tried)
		}
		// What users rely on, named: an analyst cannot reply, staff cannot manage users.
		if res := browsers[access.Analyst].post("/cases/"+f.caseID.String()+"/reply", url.Values{"body": {"hi"}}); res.status != http.StatusForbidden {
			t.Errorf("analyst reply: %d", res.status)
		}
		if res := browsers[access.Staff].get("/admin/users"); res.status != http.StatusForbidden {
			t.Errorf("staff opening /admin/users: %d", res.status)
		}
		if res := browsers[access.Staff].get("/admin"); res.status != http.StatusForbidden {
			t.Errorf("staff opening /admin: %d", res.status)
		}
		if res := browsers[access.Supervisor].get("/admin"); res.location != "/admin/reasons" {
			t.Errorf("supervisor opening /admin goes to %q, want the first page they may open", res.location)
		}
		// Nothing the refused requests asked for happened.
		page, err := e.s.Interactions.CaseTimeline(e.ctx, f.caseID, "", 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 {
			t.Errorf("case has %d interactions after refused requests, want 1", len(page.Items))
		}
		if n := len(e.staffLogs(f.cust)); n != 0 {
			t.Errorf("refused staff logs stored %d contacts", n)
		}
		target, _ := e.s.Access.GetUser(e.ctx, f.target.ID)
		if target.Role != access.Agent {
			t.Errorf("refused role change happened: %s", target.Role)
		}
	})
}

func TestFormsNeedTheSessionsToken(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		f := e.fixture()
		admin := e.user(access.Admin, "Ada Admin")
		a := e.signIn(admin)
		other := e.signIn(admin) // the same user's other session has another token
		if a.csrf == other.csrf {
			t.Fatal("two sessions share a CSRF token")
		}
		for _, route := range deskRoutes() {
			method, _, _ := strings.Cut(route.pattern, " ")
			if method != "POST" || route.perm == "public" {
				continue
			}
			path := route.path(f)
			send := func(csrf, origin string, extra http.Header) response {
				form := route.form(f)
				if csrf != "" {
					form.Set("csrf", csrf)
				}
				return a.send("POST", path, form, origin, extra)
			}
			if res := send("", e.srv.URL, nil); res.status != http.StatusForbidden || !strings.Contains(res.body, "did not come from this desk") {
				t.Errorf("POST %s without csrf: %d %q", path, res.status, res.body)
			}
			if res := send(other.csrf, e.srv.URL, nil); res.status != http.StatusForbidden {
				t.Errorf("POST %s with another session's csrf: %d", path, res.status)
			}
			if res := send("", e.srv.URL, http.Header{"X-Csrf-Token": {other.csrf}}); res.status != http.StatusForbidden {
				t.Errorf("POST %s with another session's token in the header: %d", path, res.status)
			}
			if res := send(a.csrf, "https://evil.example", nil); res.status != http.StatusForbidden || !strings.Contains(res.body, "another site") {
				t.Errorf("POST %s from a foreign origin: %d %q", path, res.status, res.body)
			}
			if res := send(a.csrf, "", http.Header{"Referer": {"https://evil.example/page"}}); res.status != http.StatusForbidden {
				t.Errorf("POST %s with a foreign referer: %d", path, res.status)
			}
		}
		// Nothing happened; the session still works.
		if res := a.get("/"); res.status != http.StatusOK {
			t.Fatalf("session after the forged posts: %d", res.status)
		}
		notes, _ := e.s.Cases.Notes(e.ctx, f.caseID)
		c, _ := e.s.Cases.Get(e.ctx, f.caseID)
		if len(notes) != 0 || c.Priority != "normal" || c.MergedInto != nil || c.InteractionCount != 1 {
			t.Errorf("forged posts changed the case: %d notes, priority %s, merged %v, %d contacts", len(notes), c.Priority, c.MergedInto, c.InteractionCount)
		}
		users, _ := e.s.Access.ListUsers(e.ctx)
		for _, u := range users {
			if u.Email == "forged@example.com" || (u.ID == f.target.ID && u.Role != access.Agent) {
				t.Errorf("forged user change: %+v", u)
			}
		}
		teams, _ := e.s.Access.ListTeams(e.ctx)
		if len(teams) != 1 || teams[0].Name != "Store staff" || len(teams[0].Members) != 0 {
			t.Errorf("forged team change: %+v", teams)
		}
		reasons, _ := e.s.Cases.Reasons(e.ctx, true)
		canned, _ := e.s.Cases.CannedResponses(e.ctx)
		policies, _ := e.s.Cases.Policies(e.ctx)
		if len(reasons)+len(canned)+len(policies) != 0 || len(e.staffLogs(f.cust)) != 0 {
			t.Errorf("forged posts stored %d reasons, %d canned, %d policies, %d staff logs", len(reasons), len(canned), len(policies), len(e.staffLogs(f.cust)))
		}
		if _, err := e.s.Access.SignIn(e.ctx, admin.Email, password); err != nil {
			t.Errorf("the forged password change happened: %v", err)
		}
		// The same form with the right token goes through.
		if res := a.post("/cases/"+f.caseID.String()+"/note", url.Values{"body": {"A real note"}}); res.status != http.StatusSeeOther {
			t.Errorf("real note: %d", res.status)
		}
	})
}

// ---- Hostile customer content ----

var payloads = []string{
	`<script>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	`<a href="javascript:alert(1)">click</a>`,
	`<svg onload=alert(1)>`,
	`<iframe src="javascript:alert(1)"></iframe>`,
	`"><script>alert(2)</script>`,
	`' onmouseover='alert(3)`,
	`<a href="  JaVaScRiPt:alert(4)">x</a>`,
}

func TestHostileContentIsInert(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		all := strings.Join(payloads, " ")
		email, store := e.contactPoint("email", "support@example.com"), e.contactPoint("store", "Main Street store")
		name := `Eve <script>alert(1)</script> <img src=x onerror=alert(1)>`
		r := e.record(interaction.Input{
			Identifiers: []customer.RawIdentifier{{Kind: "email", Value: "eve@example.com"}},
			Traits:      map[string]any{"name": name}, ContactPointID: email, Kind: "email",
			Subject: all, Content: "<p>Hello</p>" + all, Summary: all, Source: "test", ExternalID: "evil-1",
		})
		if r.CaseID == nil {
			t.Fatal("the email opened no case")
		}
		cust, caseID := r.CustomerID, *r.CaseID
		e.record(interaction.Input{CustomerID: cust, ContactPointID: store, Kind: "visit", StaffName: all, Outcome: `<svg onload=alert(1)>`,
			Reason: `"><script>alert(5)</script>`, Summary: all, Content: all, Source: "test", ExternalID: "evil-2"})
		e.record(interaction.Input{CustomerID: cust, ContactPointID: store, Kind: "visit", Summary: all, Source: "staff", ExternalID: "evil-3"})
		if _, err := e.s.Cases.AddNote(e.ctx, cases.Actor{Name: all}, caseID, all); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Cases.SaveCanned(e.ctx, cases.Actor{Name: "test"}, cases.Canned{Name: payloads[0] + payloads[1], Body: all}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Cases.SaveReason(e.ctx, cases.Reason{Code: "evil", Name: payloads[0] + payloads[1], Description: all}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Access.CreateTeam(e.ctx, "Team "+payloads[0], all, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Cases.SavePolicy(e.ctx, cases.Policy{Name: payloads[1], FirstResponse: 3600}); err != nil {
			t.Fatal(err)
		}
		e.user(access.Staff, `Mallory <svg onload=alert(1)>`)
		b := e.signIn(e.user(access.Admin, `Ada "><script>alert(6)</script>`))

		pages := []string{
			"/", "/cases/" + caseID.String(), "/cases/" + caseID.String() + "?scope=case", "/cases/" + caseID.String() + "?partial=live",
			"/customers/" + cust.String(), "/customers?q=eve", "/staff?q=eve", "/staff/customers/" + cust.String(),
			"/staff/customers/" + cust.String() + "?partial=live", "/account",
			"/admin/users", "/admin/teams", "/admin/reasons", "/admin/canned", "/admin/sla",
		}
		for _, p := range pages {
			res := b.get(p)
			if res.status != http.StatusOK {
				t.Errorf("GET %s: %d", p, res.status)
				continue
			}
			csp := res.header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("GET %s: CSP %q", p, csp)
			}
			doc := parse(t, res.body)
			for _, problem := range scriptProblems(doc) {
				t.Errorf("GET %s: %s", p, problem)
			}
		}
		// The hostile name is shown, as text.
		for _, p := range []string{"/customers/" + cust.String(), "/staff/customers/" + cust.String(), "/staff?q=eve"} {
			if !strings.Contains(textOf(parse(t, b.get(p).body)), "Eve <script>alert(1)</script>") {
				t.Errorf("GET %s does not show the customer's name as text", p)
			}
		}
		// And a contact logged by staff with hostile input stays text too.
		f := formValues(t, b.get("/staff/customers/"+cust.String()).body, "/staff/customers/"+cust.String()+"/log")
		f.Set("contact_point_id", store.String())
		f.Set("what", "conversation")
		f.Set("outcome", "resolved")
		f.Set("note", all)
		if res := b.post("/staff/customers/"+cust.String()+"/log", f); res.status != http.StatusSeeOther {
			t.Fatalf("logging hostile text: %d", res.status)
		}
		res := b.get("/staff/customers/" + cust.String())
		for _, problem := range scriptProblems(parse(t, res.body)) {
			t.Errorf("staff page after logging hostile text: %s", problem)
		}
		// Bad input shown again in the form is inert too.
		f.Set("outcome", payloads[0])
		res = b.post("/staff/customers/"+cust.String()+"/log", f)
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("hostile outcome: %d", res.status)
		}
		for _, problem := range scriptProblems(parse(t, res.body)) {
			t.Errorf("staff form shown again: %s", problem)
		}
	})
}

// ---- The staff view ----

func TestStaffLogsAContact(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		store, phone := e.contactPoint("store", "Main Street store"), e.contactPoint("phone", "Collections line")
		email := e.contactPoint("email", "support@example.com")
		cust := e.customer("Ann Smith", "ann@example.com")
		staff := e.user(access.Staff, "Sam Store")
		b := e.signIn(staff)
		custPath := "/staff/customers/" + cust.String()
		logPath := custPath + "/log"

		// Find the customer at the counter.
		res := b.get("/staff?q=ann@example.com")
		if res.status != http.StatusOK || !strings.Contains(res.body, `href="`+custPath+`"`) {
			t.Fatalf("search: %d\n%s", res.status, res.body)
		}
		if !strings.Contains(res.header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Error("staff page without CSP")
		}
		res = b.get("/staff?q=nobody-like-this")
		if !strings.Contains(textOf(parse(t, res.body)), "No customer matches") {
			t.Error("a search without results does not say so")
		}

		// The form offers the staff contact points only.
		page := b.get(custPath)
		if page.status != http.StatusOK {
			t.Fatalf("customer page: %d", page.status)
		}
		if !strings.Contains(page.body, `value="`+store.String()+`"`) || !strings.Contains(page.body, `value="`+phone.String()+`"`) ||
			strings.Contains(page.body, `value="`+email.String()+`"`) {
			t.Error("the contact point choices are not the staff kinds")
		}
		form := formValues(t, page.body, logPath)
		if form.Get("key") == "" {
			t.Fatal("the form has no idempotency key")
		}
		form.Set("contact_point_id", store.String())
		form.Set("what", "visit")
		form.Set("outcome", "sale")
		form.Set("note", "Bought a kettle.")
		form.Set("rating", "5")

		res = b.post(logPath, form)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, custPath+"?logged=") {
			t.Fatalf("logging: %d to %q\n%s", res.status, res.location, res.body)
		}
		confirm := b.get(res.location)
		if !strings.Contains(textOf(parse(t, confirm.body)), "Logged. It is on the customer's timeline.") {
			t.Errorf("no confirmation after logging:\n%s", confirm.body)
		}
		logs := e.staffLogs(cust)
		if len(logs) != 1 {
			t.Fatalf("%d contacts logged, want 1", len(logs))
		}
		it := logs[0]
		if it.Kind != "visit" || it.Direction != "inbound" || it.Outcome != "sale" || it.Summary != "Bought a kettle." ||
			it.Rating == nil || *it.Rating != 5 || it.ContactPointID == nil || *it.ContactPointID != store ||
			it.StaffID == nil || *it.StaffID != staff.ID || it.StaffName != "Sam Store" || it.ExternalID != form.Get("key") {
			t.Errorf("logged contact: %+v", it)
		}
		if !strings.Contains(confirm.body, "Bought a kettle.") {
			t.Error("the new contact is not on the page's timeline")
		}

		// A double tap logs once.
		again := b.post(logPath, form)
		if again.status != http.StatusSeeOther || again.location != res.location {
			t.Errorf("the same form again: %d to %q, want the first confirmation %q", again.status, again.location, res.location)
		}
		if n := len(e.staffLogs(cust)); n != 1 {
			t.Errorf("double submit logged %d contacts", n)
		}

		// The next form remembers the contact point, and the customer is recent.
		page = b.get(custPath)
		if got := formValues(t, page.body, logPath); got.Get("contact_point_id") != store.String() || got.Get("key") == form.Get("key") {
			t.Errorf("next form: contact point %q, key %q (old %q)", got.Get("contact_point_id"), got.Get("key"), form.Get("key"))
		}
		if home := b.get("/staff"); !strings.Contains(home.body, `href="`+custPath+`"`) {
			t.Error("the customer is not among the recent ones")
		}

		// A call is outbound.
		call := formValues(t, page.body, logPath)
		call.Set("contact_point_id", phone.String())
		call.Set("what", "payment_reminder")
		call.Set("outcome", "payment_promised")
		if res := b.post(logPath, call); res.status != http.StatusSeeOther {
			t.Fatalf("payment reminder: %d", res.status)
		}
		logs = e.staffLogs(cust)
		if len(logs) != 2 || logs[0].Kind != "payment_reminder" || logs[0].Direction != "outbound" || logs[0].Outcome != "payment_promised" {
			t.Errorf("payment reminder logged as %+v", logs[0])
		}

		// Bad input: the form again, saying what is wrong, and nothing logged.
		bad := []struct {
			name, field, value, says string
		}{
			{"no contact point", "contact_point_id", "", "Contact point"},
			{"an email address is no staff contact point", "contact_point_id", email.String(), "Contact point"},
			{"not a contact point", "contact_point_id", "banana", "Contact point"},
			{"unknown outcome", "outcome", "won_the_lottery", "won_the_lottery"},
			{"no outcome", "outcome", "", "Outcome"},
			{"unknown kind", "what", "teleport", "teleport"},
			{"rating out of range", "rating", "7", "Rating"},
			{"case of nobody", "case_id", "12345", "Case"},
			{"no key", "key", "", "incomplete"},
			{"note too long", "note", strings.Repeat("x", 2001), "Note"},
		}
		for _, tc := range bad {
			f := formValues(t, page.body, logPath)
			f.Set("contact_point_id", store.String())
			f.Set("what", "visit")
			f.Set("outcome", "resolved")
			f.Set(tc.field, tc.value)
			res := b.post(logPath, f)
			if res.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d, want 422", tc.name, res.status)
				continue
			}
			doc := parse(t, res.body)
			if text := textOf(doc); !strings.Contains(text, "Nothing was logged") || !strings.Contains(text, tc.says) {
				t.Errorf("%s: the page does not say what is wrong (%q)", tc.name, tc.says)
			}
			if tc.field != "key" && tc.field != "note" {
				// The form keeps what was entered, and a key to send it with.
				if got := formValues(t, res.body, logPath); got.Get("key") == "" || (tc.field != "what" && got.Get("what") != "visit") {
					t.Errorf("%s: the form came back without the entries: %v", tc.name, got)
				}
			}
		}
		if n := len(e.staffLogs(cust)); n != 2 {
			t.Errorf("bad input logged contacts: %d, want 2", n)
		}

		// A form key already used for another customer logs nothing, and the
		// form comes back with a fresh key.
		bo := e.customer("Bo Berg", "bo@example.com")
		boPath := "/staff/customers/" + bo.String()
		res = b.post(boPath+"/log", form)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(textOf(parse(t, res.body)), "already used for another customer") {
			t.Errorf("a key of another customer's contact: %d", res.status)
		} else if got := formValues(t, res.body, boPath+"/log"); got.Get("key") == "" || got.Get("key") == form.Get("key") {
			t.Errorf("the form came back with key %q", got.Get("key"))
		}
		if n := len(e.staffLogs(bo)); n != 0 {
			t.Errorf("%d contacts logged for the other customer", n)
		}
	})
}

func TestStaffFollowUpEndsOnACase(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		store, phone := e.contactPoint("store", "Main Street store"), e.contactPoint("phone", "Collections line")
		staff := e.user(access.Staff, "Sam Store")
		b := e.signIn(staff)
		logAs := func(cust id.ID, fields map[string]string) response {
			t.Helper()
			path := "/staff/customers/" + cust.String()
			f := formValues(t, b.get(path).body, path+"/log")
			for k, v := range fields {
				f.Set(k, v)
			}
			return b.post(path+"/log", f)
		}
		only := func(cust id.ID) *interaction.Interaction {
			t.Helper()
			logs := e.staffLogs(cust)
			if len(logs) != 1 {
				t.Fatalf("%d contacts logged, want 1", len(logs))
			}
			return logs[0]
		}

		// A call that needs a follow-up, for a customer with no open case.
		ann := e.customer("Ann Smith", "ann@example.com")
		path := "/staff/customers/" + ann.String()
		form := formValues(t, b.get(path).body, path+"/log")
		form.Set("contact_point_id", phone.String())
		form.Set("what", "call")
		form.Set("outcome", "follow_up_needed")
		form.Set("note", "Wants a call back about the invoice")
		res := b.post(path+"/log", form)
		if res.status != http.StatusSeeOther {
			t.Fatalf("logging: %d\n%s", res.status, res.body)
		}
		it := only(ann)
		if it.CaseID == nil {
			t.Fatal("a follow-up without an open case is on no case")
		}
		c, err := e.s.Cases.Get(e.ctx, *it.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if c.CustomerID != ann || !cases.IsOpen(c.Status) || c.OwnerID != nil || c.Subject != "Wants a call back about the invoice" || c.InteractionCount != 1 {
			t.Errorf("follow-up case: %+v", c)
		}
		if page := b.get(res.location); !strings.Contains(textOf(parse(t, page.body)), "It is on case #"+c.ID.String()) {
			t.Error("the confirmation does not name the case")
		}
		// The same form sent again logs nothing more and opens no second case.
		if again := b.post(path+"/log", form); again.status != http.StatusSeeOther || again.location != res.location {
			t.Errorf("the same form again: %d to %q", again.status, again.location)
		}
		if all, _ := e.s.Cases.ForCustomer(e.ctx, ann); len(all) != 1 || len(e.staffLogs(ann)) != 1 {
			t.Errorf("double submit of a follow-up: %d cases, %d contacts; want 1 and 1", len(all), len(e.staffLogs(ann)))
		}
		// The next follow-up call goes on the case now open.
		if res := logAs(ann, map[string]string{"contact_point_id": phone.String(), "what": "call", "outcome": "follow_up_needed"}); res.status != http.StatusSeeOther {
			t.Fatalf("second call: %d", res.status)
		}
		if logs := e.staffLogs(ann); len(logs) != 2 || logs[0].CaseID == nil || *logs[0].CaseID != c.ID {
			t.Errorf("the second follow-up is not on the open case %s", c.ID)
		}
		if all, _ := e.s.Cases.ForCustomer(e.ctx, ann); len(all) != 1 {
			t.Errorf("%d cases after the second call, want 1", len(all))
		}

		// Escalated, without a note: a high-priority case named after the contact.
		bo := e.customer("Bo Berg", "bo@example.com")
		if res := logAs(bo, map[string]string{"contact_point_id": phone.String(), "what": "payment_reminder", "outcome": "escalated"}); res.status != http.StatusSeeOther {
			t.Fatalf("escalating: %d", res.status)
		}
		it = only(bo)
		if it.CaseID == nil {
			t.Fatal("an escalation without an open case is on no case")
		}
		c, _ = e.s.Cases.Get(e.ctx, *it.CaseID)
		if c.Subject != "Follow-up after payment reminder" || c.Priority != "high" || c.OwnerID != nil {
			t.Errorf("escalation case: subject %q, priority %s, owner %v", c.Subject, c.Priority, c.OwnerID)
		}

		// A visit needing a follow-up ends on a case too.
		cy := e.customer("Cy Young", "cy@example.com")
		if res := logAs(cy, map[string]string{"contact_point_id": store.String(), "what": "visit", "outcome": "follow_up_needed"}); res.status != http.StatusSeeOther {
			t.Fatalf("visit: %d", res.status)
		}
		if it := only(cy); it.CaseID == nil {
			t.Error("a visit needing a follow-up is on no case")
		}

		// With an open case, a follow-up call goes on it rather than a new one.
		di := e.customer("Di Dane", "di@example.com")
		open, err := e.s.Cases.Create(e.ctx, cases.Actor{Name: "test"}, cases.NewCase{CustomerID: di, Subject: "Overdue invoice"})
		if err != nil {
			t.Fatal(err)
		}
		if res := logAs(di, map[string]string{"contact_point_id": phone.String(), "what": "call", "outcome": "follow_up_needed"}); res.status != http.StatusSeeOther {
			t.Fatalf("call: %d", res.status)
		}
		if it := only(di); it.CaseID == nil || *it.CaseID != open.ID {
			t.Errorf("follow-up call went on case %v, want the open case %s", it.CaseID, open.ID)
		}
		if all, _ := e.s.Cases.ForCustomer(e.ctx, di); len(all) != 1 {
			t.Errorf("%d cases, want the one open case", len(all))
		}

		// A case chosen on the form is the case the contact goes on.
		second, _ := e.s.Cases.Create(e.ctx, cases.Actor{Name: "test"}, cases.NewCase{CustomerID: di, Subject: "Broken kettle"})
		if res := logAs(di, map[string]string{"contact_point_id": store.String(), "what": "repair", "outcome": "resolved", "case_id": second.ID.String()}); res.status != http.StatusSeeOther {
			t.Fatalf("repair: %d", res.status)
		}
		if logs := e.staffLogs(di); logs[0].CaseID == nil || *logs[0].CaseID != second.ID {
			t.Errorf("repair went on case %v, want the chosen %s", logs[0].CaseID, second.ID)
		}

		// A resolved call leaves the cases alone.
		ed := e.customer("Ed Eng", "ed@example.com")
		if res := logAs(ed, map[string]string{"contact_point_id": phone.String(), "what": "call", "outcome": "resolved"}); res.status != http.StatusSeeOther {
			t.Fatalf("call: %d", res.status)
		}
		if it := only(ed); it.CaseID != nil {
			t.Errorf("a resolved call opened case %s", it.CaseID)
		}
	})
}

// ---- Administration ----

func TestAdminUsersAndTeams(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		admin := e.user(access.Admin, "Ada Admin")
		b := e.signIn(admin)

		res := b.get("/admin/users")
		if res.status != http.StatusOK || !strings.Contains(res.body, admin.Email) {
			t.Fatalf("users page: %d", res.status)
		}
		res = b.post("/admin/users", url.Values{"email": {"Cara@Example.com"}, "name": {"Cara"}, "role": {"agent"}, "password": {"a good long password"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("adding a user: %d\n%s", res.status, res.body)
		}
		if page := b.get(res.location); !strings.Contains(page.body, "cara@example.com") || !strings.Contains(textOf(parse(t, page.body)), "Added.") {
			t.Error("the new user is not listed with a confirmation")
		}
		cara, err := e.s.Access.SignIn(e.ctx, "cara@example.com", "a good long password")
		if err != nil || cara.Role != access.Agent || cara.Name != "Cara" {
			t.Fatalf("new user: %+v, %v", cara, err)
		}
		for _, tc := range []struct {
			name   string
			form   url.Values
			status int
			says   string
		}{
			{"same email", url.Values{"email": {"cara@example.com"}, "name": {"Cara 2"}, "role": {"agent"}, "password": {"a good long password"}}, 409, "exists"},
			{"short password", url.Values{"email": {"dan@example.com"}, "name": {"Dan"}, "role": {"agent"}, "password": {"short"}}, 422, "Password"},
			{"bad email", url.Values{"email": {"dan"}, "name": {"Dan"}, "role": {"agent"}, "password": {"a good long password"}}, 422, "Email"},
			{"integration role", url.Values{"email": {"dan@example.com"}, "name": {"Dan"}, "role": {"integration"}, "password": {"a good long password"}}, 422, "Role"},
		} {
			res := b.post("/admin/users", tc.form)
			if res.status != tc.status || !strings.Contains(textOf(parse(t, res.body)), tc.says) {
				t.Errorf("%s: %d, want %d saying %q", tc.name, res.status, tc.status, tc.says)
			}
			if got := formValues(t, res.body, "/admin/users"); got.Get("name") != tc.form.Get("name") {
				t.Errorf("%s: the form came back without the entries", tc.name)
			}
		}

		// Change Cara's role and disable her, from the row's own form.
		userPath := "/admin/users/" + cara.ID.String()
		f := formValues(t, b.get("/admin/users").body, userPath)
		f.Set("role", "staff")
		if res := b.post(userPath, f); res.status != http.StatusSeeOther {
			t.Fatalf("changing the role: %d\n%s", res.status, res.body)
		}
		f = formValues(t, b.get("/admin/users").body, userPath)
		f.Set("status", "disabled")
		if res := b.post(userPath, f); res.status != http.StatusSeeOther {
			t.Fatalf("disabling: %d", res.status)
		}
		if u, _ := e.s.Access.GetUser(e.ctx, cara.ID); u.Role != access.Staff || !u.Disabled || u.Name != "Cara" {
			t.Errorf("after the changes: %+v", u)
		}

		// The last admin cannot demote themself; the page says why.
		selfPath := "/admin/users/" + admin.ID.String()
		f = formValues(t, b.get("/admin/users").body, selfPath)
		f.Set("role", "agent")
		res = b.post(selfPath, f)
		if res.status != http.StatusConflict || !strings.Contains(textOf(parse(t, res.body)), "last enabled admin") {
			t.Errorf("demoting the last admin: %d\n%s", res.status, res.body)
		}
		if u, _ := e.s.Access.GetUser(e.ctx, admin.ID); u.Role != access.Admin {
			t.Error("the last admin was demoted")
		}

		// Teams: add one, rename it, set its members.
		res = b.post("/admin/teams", url.Values{"name": {"Collections"}, "description": {"Overdue accounts"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("adding a team: %d", res.status)
		}
		if res := b.post("/admin/teams", url.Values{"name": {"collections"}}); res.status != http.StatusConflict {
			t.Errorf("a second team with the same name: %d", res.status)
		}
		teams, _ := e.s.Access.ListTeams(e.ctx)
		if len(teams) != 1 {
			t.Fatalf("%d teams", len(teams))
		}
		teamPath := "/admin/teams/" + teams[0].ID.String()
		f = formValues(t, b.get("/admin/teams").body, teamPath)
		f.Set("name", "Credit and collections")
		f.Add("member", cara.ID.String())
		f.Add("member", admin.ID.String())
		if res := b.post(teamPath, f); res.status != http.StatusSeeOther {
			t.Fatalf("saving the team: %d\n%s", res.status, res.body)
		}
		team, _ := e.s.Access.GetTeam(e.ctx, teams[0].ID)
		if team.Name != "Credit and collections" || team.Description != "Overdue accounts" || len(team.Members) != 2 {
			t.Errorf("team after saving: %+v", team)
		}
		if page := b.get("/admin/users"); !strings.Contains(page.body, "Credit and collections") {
			t.Error("the users page does not show the team")
		}
		// Unticking every box empties the team.
		f = formValues(t, b.get("/admin/teams").body, teamPath)
		f.Del("member")
		b.post(teamPath, f)
		if team, _ := e.s.Access.GetTeam(e.ctx, teams[0].ID); len(team.Members) != 0 {
			t.Errorf("members after unticking all: %v", team.Members)
		}
	})
}

func TestAdminCaseSettings(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		b := e.signIn(e.user(access.Supervisor, "Sue Supervisor"))
		if res := b.get("/admin/users"); res.status != http.StatusForbidden {
			t.Errorf("supervisor on /admin/users: %d", res.status)
		}
		page := b.get("/admin/reasons")
		if page.status != http.StatusOK {
			t.Fatalf("reasons page: %d", page.status)
		}
		// The sub-navigation links the pages the viewer may open, and no others.
		for _, want := range []string{`href="/admin/reasons"`, `href="/admin/canned"`, `href="/admin/sla"`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("sub-navigation lacks %s", want)
			}
		}
		if strings.Contains(page.body, `href="/admin/teams"`) {
			t.Error("the sub-navigation links teams for a supervisor")
		}

		// Reasons.
		if res := b.post("/admin/reasons", url.Values{"new": {"1"}, "code": {"billing.refund"}, "name": {"Refund"}, "position": {"2"}}); res.status != http.StatusSeeOther {
			t.Fatalf("adding a reason: %d\n%s", res.status, res.body)
		}
		if res := b.post("/admin/reasons", url.Values{"new": {"1"}, "code": {"billing.refund"}, "name": {"Other"}}); res.status != http.StatusConflict {
			t.Errorf("adding the same code again: %d", res.status)
		}
		if res := b.post("/admin/reasons", url.Values{"new": {"1"}, "code": {"Not A Code"}, "name": {"x"}}); res.status != http.StatusUnprocessableEntity ||
			!strings.Contains(textOf(parse(t, res.body)), "Code") {
			t.Errorf("bad code: %d", res.status)
		}
		f := formValues(t, b.get("/admin/reasons").body, "/admin/reasons")
		if f.Get("code") != "billing.refund" {
			t.Fatalf("the first form on the page edits %q", f.Get("code"))
		}
		f.Set("name", "Refund asked")
		f.Set("status", "disabled")
		if res := b.post("/admin/reasons", f); res.status != http.StatusSeeOther {
			t.Fatalf("editing a reason: %d", res.status)
		}
		reasons, _ := e.s.Cases.Reasons(e.ctx, true)
		if len(reasons) != 1 || reasons[0].Name != "Refund asked" || !reasons[0].Disabled || reasons[0].Position != 2 {
			t.Errorf("reasons: %+v", reasons)
		}

		// Canned responses.
		if res := b.post("/admin/canned", url.Values{"name": {"Greeting"}, "body": {"Hello {{customer.first_name}},"}}); res.status != http.StatusSeeOther {
			t.Fatalf("adding a canned response: %d\n%s", res.status, res.body)
		}
		if res := b.post("/admin/canned", url.Values{"name": {"Bad"}, "body": {"Hello {{customer.shoe_size}}"}}); res.status != http.StatusUnprocessableEntity {
			t.Errorf("unknown variable: %d", res.status)
		}
		canned, _ := e.s.Cases.CannedResponses(e.ctx)
		if len(canned) != 1 || canned[0].Body != "Hello {{customer.first_name}}," {
			t.Fatalf("canned: %+v", canned)
		}
		cannedForms := formValues(t, b.get("/admin/canned").body, "/admin/canned")
		cannedForms.Set("body", "Good day {{customer.name}}.")
		if res := b.post("/admin/canned", cannedForms); res.status != http.StatusSeeOther {
			t.Fatalf("editing a canned response: %d", res.status)
		}
		if canned, _ := e.s.Cases.CannedResponses(e.ctx); len(canned) != 1 || canned[0].Body != "Good day {{customer.name}}." {
			t.Errorf("canned after editing: %+v", canned)
		}

		// SLA policies.
		res := b.post("/admin/sla", url.Values{"name": {"Urgent"}, "priority": {"urgent"}, "first_minutes": {"90"}, "resolution_hours": {"8"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("adding a policy: %d\n%s", res.status, res.body)
		}
		page = b.get("/admin/sla")
		if text := textOf(parse(t, page.body)); !strings.Contains(text, "1 h 30 min") || !strings.Contains(text, "8 h") {
			t.Errorf("the policy is not listed with its targets:\n%s", text)
		}
		for _, bad := range []url.Values{
			{"name": {"x"}, "first_minutes": {"-5"}},
			{"name": {"x"}, "first_minutes": {"99999999999999999"}},
			{"name": {"x"}, "priority": {"whenever"}},
			{"name": {""}},
			{"name": {"x"}, "team_id": {"123"}},
		} {
			if res := b.post("/admin/sla", bad); res.status != http.StatusUnprocessableEntity {
				t.Errorf("policy %v: %d, want 422", bad, res.status)
			}
		}
		policies, _ := e.s.Cases.Policies(e.ctx)
		if len(policies) != 1 || policies[0].FirstResponse != 90*60 || policies[0].Resolution != 8*3600 || policies[0].WarnPercent != 80 {
			t.Errorf("policies: %s", mustJSON(policies))
		}
	})
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestScriptProblemsFindsScript checks the checker: each of these pages
// would run script, and each must be caught.
func TestScriptProblemsFindsScript(t *testing.T) {
	for _, page := range []string{
		`<script>alert(1)</script>`,
		`<script src="/static/other.js"></script>`,
		`<script src="/static/desk.js">alert(1)</script>`,
		`<img src=x onerror=alert(1)>`,
		`<svg onload=alert(1)></svg>`,
		`<div ONCLICK="alert(1)">x</div>`,
		`<a href="javascript:alert(1)">x</a>`,
		`<a href=" java&#x09;script:alert(1)">x</a>`,
		`<form action="JAVASCRIPT:alert(1)"></form>`,
		`<iframe src="/x"></iframe>`,
		`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
		`<base href="https://evil.example/">`,
	} {
		if len(scriptProblems(parse(t, page))) == 0 {
			t.Errorf("not caught: %s", page)
		}
	}
	safe := `<script src="/static/desk.js" defer></script><a href="/cases/1">ok</a><p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`
	if p := scriptProblems(parse(t, safe)); len(p) != 0 {
		t.Errorf("a safe page has problems: %v", p)
	}
}
