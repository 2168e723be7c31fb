package desk_test

// Browser tests of the agent desk: a real headless Chromium, driven with
// chromedp, against the whole application served by httptest. They cover
// what an agent does: sign in, open a case whose customer came through three
// contact points, reply, watch a new contact arrive live, see a colleague on
// the same case, and stay safe from hostile customer content.
//
// They skip when no Chromium is installed, and fail instead when CI is set.
// With TOUCHPOINT_SCREENSHOTS=<dir>, TestBrowserScreenshots saves full-page
// PNGs of the inbox and of a case page there.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
	"github.com/touchpoint-hub/touchpoint/internal/web/desk"
)

const (
	// browserBudget bounds one browser's whole life: when it runs out the
	// browser is stopped and every step still waiting fails.
	browserBudget = 25 * time.Second
	// browserStep bounds one step (a navigation, a click, a query).
	browserStep = 10 * time.Second
	// liveBudget is the budget for a change to show on an open page.
	liveBudget = 2 * time.Second
	// browserPassword is every seeded agent's password.
	browserPassword = "password-123"
	// screenshotsEnv names the directory that receives the screenshots.
	screenshotsEnv = "TOUCHPOINT_SCREENSHOTS"
)

// findChromium returns the path of a Chromium-like browser. Without one the
// test skips, or fails when the environment variable CI is set, so that CI
// cannot pass by silently running no browser test.
func findChromium(t *testing.T) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium on PATH (looked for " + strings.Join(names, ", ") + ")"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so the browser tests must run: install chromium")
	}
	t.Skip(msg + "; install chromium to run the browser tests")
	return ""
}

// browserWorld is a running desk with seeded, realistic data.
type browserWorld struct {
	s   *app.Services
	srv *httptest.Server

	agentA, agentB *access.User
	cps            map[contactpoint.Kind]id.ID

	// The customer who came through phone, email and store, and her case.
	customerName  string
	customerEmail string
	caseID        id.ID
	caseSubject   string
}

func newBrowserWorld(t *testing.T) *browserWorld {
	t.Helper()
	ctx := t.Context()
	s := app.NewServices(storetest.SQLite(t), "US")
	srv := httptest.NewServer(s.Handler(slog.New(slog.DiscardHandler), app.Limits{}))
	// Registered before any browser, so it runs after the browsers are gone
	// (Close waits for open event streams).
	t.Cleanup(srv.Close)
	w := &browserWorld{s: s, srv: srv, cps: map[contactpoint.Kind]id.ID{},
		customerName: "Elena Fischer", customerEmail: "elena.fischer@example.com",
		caseSubject: "Washer delivered with a dented door"}

	var err error
	if w.agentA, err = s.Access.CreateUser(ctx, "priya.raman@northwind.example", "Priya Raman", access.Agent, browserPassword, "test"); err != nil {
		t.Fatalf("creating agent A: %v", err)
	}
	if w.agentB, err = s.Access.CreateUser(ctx, "marcus.chen@northwind.example", "Marcus Chen", access.Agent, browserPassword, "test"); err != nil {
		t.Fatalf("creating agent B: %v", err)
	}
	for _, cp := range []struct {
		kind contactpoint.Kind
		name string
	}{
		{"phone", "Support line +1 555 0100"},
		{"email", "support@northwind.example"},
		{"store", "Main Street store"},
		{"sms", "Text line +1 555 0142"},
		{"web_chat", "Website chat"},
	} {
		created, err := s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &cp.kind, Name: &cp.name})
		if err != nil {
			t.Fatalf("creating the %s contact point: %v", cp.kind, err)
		}
		w.cps[cp.kind] = created.ID
	}

	now := time.Now().UTC()
	elena := []customer.RawIdentifier{{Kind: "email", Value: w.customerEmail}}
	var caseIDs []id.ID
	for _, in := range []interaction.Input{
		{Kind: "call", ContactPointID: w.cps["phone"], OccurredAt: now.Add(-26 * time.Hour), DurationMS: new(int64(312000)),
			StaffName: "Jordan Blake", Traits: map[string]any{"name": w.customerName},
			Summary: "Called about the WM-800 washer delivered on Monday: the door has a deep dent. Wants a replacement door or a technician visit."},
		{Kind: "email", ContactPointID: w.cps["email"], OccurredAt: now.Add(-25 * time.Hour),
			Subject: "Dented door on my new washer (order #A-48213)",
			Content: "<p>Hello,</p><p>As discussed on the phone this morning, the door of the WM-800 washer you delivered on Monday " +
				"has a deep dent on the left side. The delivery driver said it was like that when they loaded it.</p>" +
				"<p>Could you send a technician or a replacement door this week?</p><p>Best regards,<br>Elena Fischer</p>"},
		{Kind: "visit", ContactPointID: w.cps["store"], OccurredAt: now.Add(-3 * time.Hour), StaffName: "Sam Ortiz",
			Summary: "Came to the Main Street store with the delivery note. Store staff confirmed the dent from her photos and kept a copy of the receipt."},
	} {
		in.Identifiers, in.Direction = elena, "inbound"
		caseIDs = append(caseIDs, w.record(t, in))
	}
	if caseIDs[0] != caseIDs[1] || caseIDs[0] != caseIDs[2] {
		t.Fatalf("the three contacts did not join one case: %v", caseIDs)
	}
	w.caseID = caseIDs[0]
	actor := cases.Actor{UserID: w.agentB.ID, Name: w.agentB.Name}
	high, me := "high", cases.OptionalID{Set: true, ID: w.agentA.ID}
	if _, err := s.Cases.Update(ctx, actor, w.caseID, cases.Patch{Subject: &w.caseSubject, Priority: &high, OwnerID: me}); err != nil {
		t.Fatalf("updating the case: %v", err)
	}
	if _, err := s.Cases.AddNote(ctx, actor, w.caseID,
		"Photos look like transport damage. A replacement door is in stock at the warehouse; checking a technician slot with logistics."); err != nil {
		t.Fatalf("adding a note: %v", err)
	}

	// Other customers, so the inbox looks like a working day.
	for _, o := range []struct {
		name, identKind, ident string
		in                     interaction.Input
		priority               string
	}{
		{"James O'Connor", "email", "james.oconnor@example.net", interaction.Input{Kind: "email", ContactPointID: w.cps["email"],
			OccurredAt: now.Add(-5 * time.Hour), Subject: "Refund for cancelled order #A-47990",
			Content: "<p>Hi,</p><p>I cancelled order #A-47990 two weeks ago and the refund has still not reached my card. Can you check?</p><p>Thanks,<br>James</p>"}, "normal"},
		{"Aisha Khan", "phone", "+1 212 555 0187", interaction.Input{Kind: "sms", ContactPointID: w.cps["sms"],
			OccurredAt: now.Add(-90 * time.Minute), Content: "Hi, the loyalty points from Saturday's purchase at Main Street are not showing in the app."}, "low"},
		{"Tomás Herrera", "email", "tomas.herrera@example.org", interaction.Input{Kind: "chat", ContactPointID: w.cps["web_chat"],
			OccurredAt: now.Add(-20 * time.Minute), Content: "The router I bought last month drops the connection every evening. I have reset it twice already."}, "urgent"},
		{"Grace Okafor", "email", "grace.okafor@example.com", interaction.Input{Kind: "visit", ContactPointID: w.cps["store"],
			OccurredAt: now.Add(-50 * time.Minute), StaffName: "Sam Ortiz", Summary: "Asked about extending the warranty on her DW-300 dishwasher; wants a quote by email."}, "normal"},
	} {
		in := o.in
		in.Identifiers, in.Direction = []customer.RawIdentifier{{Kind: o.identKind, Value: o.ident}}, "inbound"
		in.Traits = map[string]any{"name": o.name}
		caseID := w.record(t, in)
		if _, err := s.Cases.Update(ctx, actor, caseID, cases.Patch{Priority: &o.priority}); err != nil {
			t.Fatalf("setting the priority of %s's case: %v", o.name, err)
		}
	}
	return w
}

// record stores one interaction through the service and returns its case.
func (w *browserWorld) record(t *testing.T, in interaction.Input) id.ID {
	t.Helper()
	res, err := w.s.Interactions.Record(t.Context(), []interaction.Input{in})
	if err != nil {
		t.Fatalf("recording a %s: %v", in.Kind, err)
	}
	if res[0].CaseID == nil {
		t.Fatalf("the %s opened or joined no case", in.Kind)
	}
	return *res[0].CaseID
}

func (w *browserWorld) casePath(c id.ID) string { return "/cases/" + c.String() }

// deskBrowser is one browser (its own process and cookie jar) with one tab.
type deskBrowser struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu         sync.Mutex
	dialogs    []string // messages of JavaScript dialogs that opened
	exceptions []string // uncaught exceptions of the page's scripts
}

// openBrowser starts a headless Chromium with a 1440×900 viewport. It is
// stopped at the test's end, before the server closes.
func openBrowser(t *testing.T, chrome, name string) *deskBrowser {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chrome), chromedp.WindowSize(1440, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to sandbox as root
	}
	budget, cancelBudget := context.WithTimeout(context.Background(), browserBudget)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(budget, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelBudget()
	})
	b := &deskBrowser{t: t, name: name, ctx: ctx}
	// Listen starts the browser; its life is bound to ctx, so no step
	// timeout may be used for this first call.
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.mu.Lock()
			b.dialogs = append(b.dialogs, string(ev.Type)+": "+ev.Message)
			b.mu.Unlock()
			// Dismiss it, or the page stalls; a listener may not send
			// commands itself.
			go func() {
				dctx, cancel := context.WithTimeout(ctx, browserStep)
				defer cancel()
				chromedp.Call(dctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			b.mu.Lock()
			b.exceptions = append(b.exceptions, fmt.Sprintf("%s (%s:%d)", msg, d.URL, d.LineNumber+1))
			b.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("%s: starting Chromium: %v", name, err)
	}
	b.do("set the viewport", chromedp.EmulateViewport(1440, 900))
	return b
}

// do runs steps within the step timeout and fails the test on an error.
func (b *deskBrowser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
}

// load runs steps that navigate (a click on a submit button, say) and waits
// for the new page; it fails unless the page answered 200.
func (b *deskBrowser) load(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
	if resp.Status != http.StatusOK {
		b.t.Fatalf("%s: %s: the page %s answered %d %s", b.name, what, resp.URL, resp.Status, resp.StatusText)
	}
}

// evalIn evaluates a JavaScript expression on b's page.
func evalIn[T any](b *deskBrowser, what, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
	return v
}

// within polls the JavaScript predicate until it holds, for at most d, and
// returns how long that took; it fails the test when d runs out.
func (b *deskBrowser) within(d time.Duration, what, predicate string) time.Duration {
	b.t.Helper()
	start := time.Now()
	if err := b.poll(d, predicate); err != nil {
		b.t.Fatalf("%s: %s: not seen within %v: %v", b.name, what, d, err)
	}
	return time.Since(start)
}

// poll waits for the predicate for at most d.
func (b *deskBrowser) poll(d time.Duration, predicate string) error {
	// The browser enforces d; the context is a backstop should the page hang.
	ctx, cancel := context.WithTimeout(b.ctx, d+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(d)))
	return err
}

// signIn signs in through the form and lands on the page it was sent to.
func (b *deskBrowser) signIn(w *browserWorld, u *access.User) {
	b.t.Helper()
	b.load("open the desk", chromedp.Navigate(w.srv.URL+"/"))
	b.do("fill in the sign-in form",
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), u.Email),
		chromedp.SendKeys(chromedp.ID("password"), browserPassword),
	)
	b.load("submit the sign-in form", chromedp.Click(chromedp.CSS(`.signin button[type="submit"]`)))
}

// openCase opens a case page and waits until its event stream is connected
// (the live dot turns green), so that no live event can be missed.
func (b *deskBrowser) openCase(w *browserWorld, c id.ID) {
	b.t.Helper()
	b.load("open case "+c.String(), chromedp.Navigate(w.srv.URL+w.casePath(c)))
	b.do("wait for the live connection", chromedp.WaitReady(chromedp.CSS("#live-status.on")))
}

// path is the path of the page the browser shows.
func (b *deskBrowser) path() string {
	b.t.Helper()
	return evalIn[string](b, "read the location", "location.pathname")
}

// timelineEntry is what an agent reads of one line of a case's timeline.
type timelineEntry struct {
	ID        string `json:"id"`
	Badge     string `json:"badge"`
	Direction string `json:"direction"`
	OnCase    bool   `json:"on_case"`
	Delivery  string `json:"delivery"`
	Text      string `json:"text"`
}

func (b *deskBrowser) timeline() []timelineEntry {
	b.t.Helper()
	return evalIn[[]timelineEntry](b, "read the timeline", `Array.from(document.querySelectorAll("#live .timeline > li.entry")).map(e => ({
		id: e.id,
		badge: (e.querySelector(".what .badge")?.textContent ?? "").trim(),
		direction: (e.className.match(/\bdir-(\w+)/) ?? ["", ""])[1],
		on_case: e.querySelector(".oncase") !== null,
		delivery: (e.querySelector(".delivery")?.textContent ?? "").trim(),
		text: e.textContent.replace(/\s+/g, " ").trim(),
	}))`)
}

// troubles lists the dialogs and script errors the browser saw.
func (b *deskBrowser) troubles() (dialogs, exceptions []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.dialogs), slices.Clone(b.exceptions)
}

// noScriptErrors fails the test if a script of the page threw.
func (b *deskBrowser) noScriptErrors() {
	b.t.Helper()
	if _, exc := b.troubles(); len(exc) > 0 {
		b.t.Errorf("%s: the page's scripts threw:\n%s", b.name, strings.Join(exc, "\n"))
	}
}

// js quotes a Go string for a JavaScript expression.
func js(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// textIn is a predicate: the element's text holds want.
func textIn(selector, want string) string {
	return fmt.Sprintf(`(document.querySelector(%s)?.textContent ?? "").replace(/\s+/g, " ").includes(%s)`, js(selector), js(want))
}

func TestBrowserSignIn(t *testing.T) {
	chrome := findChromium(t)
	w := newBrowserWorld(t)
	b := openBrowser(t, chrome, "agent")

	b.load("open the desk", chromedp.Navigate(w.srv.URL+"/"))
	if p := b.path(); p != "/signin" {
		t.Fatalf("a visitor without a session is on %q, want the sign-in page", p)
	}
	b.signIn(w, w.agentA)
	if p := b.path(); p != "/" {
		t.Fatalf("after signing in the agent is on %q, want the inbox", p)
	}
	if title := evalIn[string](b, "read the title", "document.title"); !strings.HasPrefix(title, "Inbox") {
		t.Errorf("title %q, want the inbox's", title)
	}
	row := fmt.Sprintf(`tr[data-href=%s]`, js(w.casePath(w.caseID)))
	b.do("find the case in the inbox", chromedp.WaitVisible(chromedp.CSS(row)))
	text := evalIn[string](b, "read the case's row", fmt.Sprintf(`document.querySelector(%s).textContent.replace(/\s+/g, " ")`, js(row)))
	for _, want := range []string{w.caseSubject, w.customerName, "Priya Raman", "High"} {
		if !strings.Contains(text, want) {
			t.Errorf("the inbox row of the case reads %q; it lacks %q", text, want)
		}
	}
	b.noScriptErrors()
}

func TestBrowserCaseShowsEveryContactPoint(t *testing.T) {
	chrome := findChromium(t)
	w := newBrowserWorld(t)
	b := openBrowser(t, chrome, "agent")
	b.signIn(w, w.agentA)
	b.openCase(w, w.caseID)

	if got := evalIn[string](b, "read the heading", `document.getElementById("case-subject").textContent`); got != w.caseSubject {
		t.Errorf("the case page's heading is %q, want %q", got, w.caseSubject)
	}
	seen := map[string]timelineEntry{}
	for _, e := range b.timeline() {
		if e.Direction == "inbound" && e.OnCase {
			seen[e.Badge] = e
		}
	}
	for badge, want := range map[string]string{"Phone": "WM-800 washer delivered on Monday", "Email": "Could you send a technician", "Store": "kept a copy of the receipt"} {
		e, ok := seen[badge]
		if !ok {
			t.Errorf("no inbound contact on this case with the badge %q; the timeline has %+v", badge, b.timeline())
			continue
		}
		if !strings.Contains(e.Text, want) {
			t.Errorf("the %s contact reads %q; it lacks %q", badge, e.Text, want)
		}
	}
	if !strings.Contains(evalIn[string](b, "read the customer panel", `document.querySelector(".customer-panel").textContent`), w.customerName) {
		t.Errorf("the customer panel does not name %s", w.customerName)
	}
	b.noScriptErrors()
}

func TestBrowserReply(t *testing.T) {
	chrome := findChromium(t)
	w := newBrowserWorld(t)
	b := openBrowser(t, chrome, "agent")
	b.signIn(w, w.agentA)
	b.openCase(w, w.caseID)

	reply := "Hi Elena, I am sorry about the dent. A technician will bring a new door on Thursday between 9 and 12."
	b.do("write a reply",
		chromedp.SetValue(chromedp.ID("reply-channel"), w.cps["email"].String()),
		chromedp.SendKeys(chromedp.ID("reply-body"), reply),
	)
	b.load("send the reply", chromedp.Click(chromedp.CSS(`#reply-form button[type="submit"]`)))
	if p := b.path(); p != w.casePath(w.caseID) {
		t.Fatalf("after replying the agent is on %q, want the case page", p)
	}
	var mine *timelineEntry
	entries := b.timeline()
	for i, e := range entries {
		if strings.Contains(e.Text, reply) {
			mine = &entries[i]
			break
		}
	}
	if mine == nil {
		t.Fatalf("the reply is not on the timeline: %+v", entries)
	}
	if mine.Direction != "outbound" || mine.Badge != "Email" || mine.Delivery != "Pending" || !mine.OnCase {
		t.Errorf("the reply shows as %+v, want an outbound Email on this case, delivery Pending", *mine)
	}
	if !strings.Contains(mine.Text, "by Priya Raman") {
		t.Errorf("the reply does not say who sent it: %q", mine.Text)
	}
	if v := evalIn[string](b, "read the composer", `document.getElementById("reply-body").value`); v != "" {
		t.Errorf("the composer still holds %q after sending", v)
	}
	b.noScriptErrors()
}

func TestBrowserLiveIngest(t *testing.T) {
	chrome := findChromium(t)
	w := newBrowserWorld(t)
	token, _, err := w.s.Access.CreateToken(t.Context(), "mailbox bridge", access.Admin, time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	b := openBrowser(t, chrome, "agent")
	b.signIn(w, w.agentA)
	b.openCase(w, w.caseID)

	content := "Any news on the replacement door? I am home on Thursday and Friday. (ref " + fmt.Sprint(time.Now().UnixNano()) + ")"
	body, _ := json.Marshal(map[string]any{
		"identifiers":      []map[string]string{{"kind": "email", "value": w.customerEmail}},
		"contact_point_id": w.cps["email"].String(),
		"kind":             "email",
		"direction":        "inbound",
		"subject":          "Re: Dented door on my new washer (order #A-48213)",
		"content":          content,
		"source":           "mailbox",
		"external_id":      "msg-" + fmt.Sprint(time.Now().UnixNano()),
	})
	start := time.Now()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, w.srv.URL+"/api/v1/interactions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("posting the interaction: %v", err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/interactions answered %d: %s", resp.StatusCode, answer)
	}
	var res interaction.Result
	if err := json.Unmarshal(answer, &res); err != nil || res.CaseID == nil || *res.CaseID != w.caseID {
		t.Fatalf("the interaction did not join the open case: %s (%v)", answer, err)
	}
	left := liveBudget - time.Since(start)
	if left <= 0 {
		t.Fatalf("recording the interaction alone took %v, beyond the %v budget", time.Since(start), liveBudget)
	}
	entry := fmt.Sprintf("#i-%s", res.ID)
	b.within(left, "the new email on the open case page", textIn(entry, content))
	t.Logf("the new email showed %v after the API call", time.Since(start).Round(time.Millisecond))

	for _, e := range b.timeline() {
		if e.ID == "i-"+res.ID.String() && (e.Badge != "Email" || e.Direction != "inbound" || !e.OnCase) {
			t.Errorf("the new email shows as %+v, want an inbound Email on this case", e)
		}
	}
	if !strings.Contains(evalIn[string](b, "read the status line", `document.querySelector(".case-status-line").textContent`), "4 contacts on this case") {
		t.Errorf("the status line does not count the new contact")
	}
	b.noScriptErrors()
}

func TestBrowserPresence(t *testing.T) {
	chrome := findChromium(t)
	w := newBrowserWorld(t)
	a := openBrowser(t, chrome, "Priya's browser")
	b := openBrowser(t, chrome, "Marcus's browser")
	a.signIn(w, w.agentA)
	b.signIn(w, w.agentB)
	// A is connected before B arrives, so B's arrival reaches A, and A's
	// answer reaches B.
	a.openCase(w, w.caseID)
	b.openCase(w, w.caseID)

	a.within(browserStep/2, "Marcus on the case", textIn("#presence", "Marcus Chen is viewing this case"))
	b.within(browserStep/2, "Priya on the case", textIn("#presence", "Priya Raman is viewing this case"))
	if strings.Contains(evalIn[string](a, "read presence", `document.getElementById("presence").textContent`), "Priya Raman") {
		t.Errorf("Priya's own page lists her as present")
	}

	start := time.Now()
	a.do("type into the reply box", chromedp.SendKeys(chromedp.ID("reply-body"), "Hi Elena, "))
	left := liveBudget - time.Since(start)
	b.within(left, "Priya typing", textIn("#presence", "Priya Raman is typing a reply…"))
	t.Logf("Marcus saw Priya typing %v after her first key", time.Since(start).Round(time.Millisecond))
	a.noScriptErrors()
	b.noScriptErrors()
}

func TestBrowserHostileContent(t *testing.T) {
	chrome := findChromium(t)
	w := newBrowserWorld(t)
	hostile := []customer.RawIdentifier{{Kind: "email", Value: "mallory@example.net"}}
	const (
		img    = `<img src=x onerror="document.title='pwned';alert('img')">`
		script = `<script>document.title='pwned';alert('script')</script>`
	)
	// An HTML email (sanitized) and a chat message (shown as text), with a
	// subject and a customer name that try the same.
	caseID := w.record(t, interaction.Input{Identifiers: hostile, ContactPointID: w.cps["email"], Kind: "email", Direction: "inbound",
		Traits:  map[string]any{"name": "Mallory " + img},
		Subject: "Order question " + script,
		Content: "<p>See the picture:</p>" + img + script + `<a href="javascript:alert('link')">details</a>`})
	w.record(t, interaction.Input{Identifiers: hostile, ContactPointID: w.cps["web_chat"], Kind: "chat", Direction: "inbound",
		Content: `<img src=x onerror="document.title='pwned'"> is what the app shows me`})

	b := openBrowser(t, chrome, "agent")
	b.signIn(w, w.agentA)
	check := func(where string) {
		t.Helper()
		// Let every image load or fail, so that any onerror has had its
		// chance to run.
		if err := b.poll(liveBudget, `Array.from(document.images).every(i => i.complete)`); err != nil {
			t.Fatalf("%s: the images did not settle: %v", where, err)
		}
		b.do("let queued tasks run", chromedp.Sleep(100*time.Millisecond))
		if title := evalIn[string](b, "read the title", "document.title"); title == "pwned" {
			t.Errorf("%s: customer content ran a script (document.title = %q)", where, title)
		}
		if dialogs, _ := b.troubles(); len(dialogs) > 0 {
			t.Errorf("%s: customer content opened dialogs: %q", where, dialogs)
		}
		live := evalIn[[]string](b, "look for live markup", `Array.from(document.querySelectorAll("#main *")).flatMap(el =>
			(el.tagName === "SCRIPT" ? ["<script>"] : []).concat(
			Array.from(el.attributes).filter(a => a.name.startsWith("on") || /^\s*javascript:/i.test(a.value)).map(a => el.tagName + " " + a.name + "=" + a.value)))`)
		if len(live) > 0 {
			t.Errorf("%s: customer content left live markup in the page: %q", where, live)
		}
	}

	// The case is nobody's yet: it is under all open cases, not the agent's own.
	b.load("open all open cases", chromedp.Navigate(w.srv.URL+"/?view=all"))
	b.do("see the case in the inbox", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-href=%s]`, js(w.casePath(caseID))))))
	check("inbox")

	b.openCase(w, caseID)
	check("case page")
	b.within(browserStep/2, "the chat shown as text", textIn("#live .timeline", `<img src=x onerror="document.title='pwned'">`))

	// The live region is swapped in with innerHTML, where an onerror would
	// run too: bring hostile content in live.
	w.record(t, interaction.Input{Identifiers: hostile, ContactPointID: w.cps["email"], Kind: "email", Direction: "inbound",
		Subject: "Follow-up", Content: "<p>Second try</p>" + img + script})
	b.within(liveBudget, "the follow-up on the open page", textIn("#live .timeline", "Second try"))
	check("case page after a live update")

	// The detector itself must work, or the checks above prove nothing.
	b.do("open a dialog on purpose", chromedp.Evaluate[chromedp.Void](`setTimeout(() => alert("probe"), 0)`))
	deadline := time.Now().Add(liveBudget)
	for {
		if dialogs, _ := b.troubles(); slices.Contains(dialogs, "alert: probe") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a dialog opened on purpose was not noticed: the dialog check is blind")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.noScriptErrors()
}

// TestBrowserScreenshots saves full-page screenshots of the inbox and of a
// case page into $TOUCHPOINT_SCREENSHOTS.
func TestBrowserScreenshots(t *testing.T) {
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		t.Skip("set " + screenshotsEnv + " to a directory to save screenshots of the desk")
	}
	chrome := findChromium(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w := newBrowserWorld(t)
	b := openBrowser(t, chrome, "agent")
	b.signIn(w, w.agentA)
	b.do("wait for the inbox", chromedp.WaitVisible(chromedp.CSS("table.cases")), chromedp.WaitReady(chromedp.CSS("#live-status.on")))
	saveScreenshot(t, b, filepath.Join(dir, "inbox.png"))

	b.openCase(w, w.caseID)
	// A colleague on the same case, announced the way his page would.
	token, _, err := w.s.Access.StartSession(t.Context(), w.agentB.ID, "screenshot", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, w.srv.URL+w.casePath(w.caseID)+"/presence",
		strings.NewReader(url.Values{"state": {"viewing"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", access.CSRFToken(token))
	req.AddCookie(&http.Cookie{Name: desk.SessionCookie, Value: token})
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("announcing Marcus answered %d", resp.StatusCode)
	}
	b.within(browserStep/2, "Marcus on the case", textIn("#presence", "Marcus Chen is viewing this case"))
	b.do("start a reply",
		chromedp.SetValue(chromedp.ID("reply-channel"), w.cps["email"].String()),
		chromedp.SendKeys(chromedp.ID("reply-body"), "Hi Elena, thank you for the photos. A technician will bring a new door on Thursday between 9 and 12."),
		chromedp.Blur(chromedp.ID("reply-body")),
	)
	saveScreenshot(t, b, filepath.Join(dir, "case.png"))
	b.noScriptErrors()
}

// saveScreenshot writes a PNG of the whole page, beyond the viewport.
func saveScreenshot(t *testing.T, b *deskBrowser, file string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	png, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		m, err := cdp.Call(ctx, tg, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		if m.CSSContentSize == nil {
			return nil, errors.New("the page reported no content size")
		}
		r, err := cdp.Call(ctx, tg, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			CaptureBeyondViewport: new(true),
			FromSurface:           new(true),
			Clip:                  &page.Viewport{Width: max(m.CSSContentSize.Width, 1440), Height: max(m.CSSContentSize.Height, 900), Scale: 1},
		})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	})
	if err != nil {
		t.Fatalf("taking a screenshot for %s: %v", file, err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", file)
}
