package kiosk_test

// The kiosk in a real headless Chromium emulating a touch screen: every
// step is a synthesized tap (no mouse, no keyboard), through identify →
// check in → see one's place → idle reset. It skips without Chromium, and
// fails instead when CI is set.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

const (
	browserBudget = 45 * time.Second
	browserStep   = 10 * time.Second
)

func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium on PATH; CI is set, so the browser test must run")
	}
	t.Skip("no Chromium on PATH")
	return ""
}

type touchBrowser struct {
	t   *testing.T
	ctx context.Context
}

func openTouchBrowser(t *testing.T) *touchBrowser {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(findChromium(t)))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	budget, cancelBudget := context.WithTimeout(context.Background(), browserBudget)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(budget, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancelBudget() })
	b := &touchBrowser{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return b
}

func (b *touchBrowser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](b *touchBrowser, what, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// within waits for a JavaScript predicate. A tap that navigates destroys
// the page a poll runs in, so a failed poll is tried again until d is over.
func (b *touchBrowser) within(d time.Duration, what, predicate string) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		ctx, cancel := context.WithTimeout(b.ctx, left+time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate,
			chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(max(left, 10*time.Millisecond))))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: not seen within %v: %v (page: %s)", what, d, err,
				eval[string](b, "read the page", `location.pathname + " " + document.body.innerText.slice(0, 400)`))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tap finds an element, scrolls it into view and taps its centre with a
// synthesized touch gesture.
func (b *touchBrowser) tap(sel string) {
	b.t.Helper()
	b.within(browserStep, "find "+sel, fmt.Sprintf(`!!document.querySelector(%q)`, sel))
	xy := eval[[]float64](b, "locate "+sel, fmt.Sprintf(`(() => { const e = document.querySelector(%q);
		e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2]; })()`, sel))
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	// A touch start and end at one point is a tap: the page gets touch and
	// pointer events, then the click the browser makes of the tap.
	if _, err := chromedp.Call(ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{
		Type: input.DispatchTouchEventTypeTouchStart, TouchPoints: []*input.TouchPoint{{X: xy[0], Y: xy[1]}}}); err != nil {
		b.t.Fatalf("touch %s: %v", sel, err)
	}
	if _, err := chromedp.Call(ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{
		Type: input.DispatchTouchEventTypeTouchEnd, TouchPoints: []*input.TouchPoint{}}); err != nil {
		b.t.Fatalf("release %s: %v", sel, err)
	}
}

// tapKeys types on an on-screen pad.
func (b *touchBrowser) tapKeys(pad, keys string) {
	b.t.Helper()
	for _, k := range keys {
		b.tap(fmt.Sprintf(`[data-pad-for=%q] [data-key=%q]`, pad, string(k)))
	}
	b.within(browserStep, "typed on "+pad, fmt.Sprintf(`document.getElementById(%q).value === %q`, pad, keys))
}

// smallTargets lists visible controls smaller than 48 CSS pixels.
func (b *touchBrowser) smallTargets() []string {
	return eval[[]string](b, "measure targets", `[...document.querySelectorAll("a, button, input")]
		.filter(e => e.offsetParent !== null)
		.map(e => [e, e.getBoundingClientRect()])
		.filter(([e, r]) => r.height < 48 || r.width < 48)
		.map(([e, r]) => (e.id || e.textContent.trim() || e.tagName) + " " + Math.round(r.width) + "x" + Math.round(r.height))`)
}

func TestKioskBrowserTouch(t *testing.T) {
	db := storetest.SQLite(t)
	w := newWorld(t, db, nil)
	ctx := t.Context()
	// The code goes out as a text through the SMS contact point's API (see
	// newWorld); short idle time so that the reset happens within the test.
	w.s.Kiosk.SetClock(func() time.Time { return time.Now().UTC() })
	w.s.Kiosk.Idle = 8 * time.Second
	// The whole application, so that the route of app.go is what is tested.
	srv := httptest.NewServer(w.s.Handler(slog.New(slog.DiscardHandler), app.Limits{}))
	t.Cleanup(srv.Close)
	b := openTouchBrowser(t)
	b.do("emulate a portrait touch screen", chromedp.EmulateViewport(800, 1280, chromedp.EmulatePortrait, chromedp.EmulateTouch))
	b.do("open the kiosk", chromedp.Navigate(srv.URL+w.base))
	if !eval[bool](b, "touch support", `navigator.maxTouchPoints > 0 && "ontouchstart" in window`) {
		t.Fatal("touch emulation is off")
	}

	b.tap("#tile-sign-in")
	b.within(browserStep, "the sign-in page", `!!document.getElementById("phone-form")`)
	if small := b.smallTargets(); len(small) > 0 {
		t.Fatalf("targets under 48 px in portrait: %v", small)
	}
	b.tapKeys("phone", "5555550123")
	b.tap("#send-code")
	b.within(browserStep, "the code form", `!!document.getElementById("code-form")`)
	if eval[bool](b, "a code on screen", `!!document.querySelector("#demo-code")`) {
		t.Fatal("the code texted to the phone is also on the screen")
	}
	code := w.code(annPhone)
	if code == "" {
		t.Fatal("no code was texted to Ann's phone")
	}
	b.tapKeys("code", code)
	b.tap("#verify")
	b.within(browserStep, "signed in", `(document.getElementById("hello") || {}).textContent === "Hello, Ann Carter"`)

	b.tap("#check-in")
	b.within(browserStep, "the place in the queue", `(document.getElementById("position") || {}).textContent === "1"`)
	items, err := w.s.Routing.ListItems(ctx, routing.ItemQuery{QueueID: w.queueID})
	if err != nil || len(items) != 1 || items[0].CustomerID != w.annID {
		t.Fatalf("the walk-in work item: %v %+v", err, items)
	}
	b.do("turn to landscape", chromedp.EmulateViewport(1280, 800, chromedp.EmulateLandscape, chromedp.EmulateTouch))
	if small := b.smallTargets(); len(small) > 0 {
		t.Fatalf("targets under 48 px in landscape: %v", small)
	}

	// Nobody touches the screen: it warns, then resets to the welcome page.
	b.within(w.s.Kiosk.Idle, "the idle warning", `!document.getElementById("idle-warning").hidden`)
	b.within(w.s.Kiosk.Idle+3*time.Second, "the reset", `location.pathname === `+fmt.Sprintf("%q", w.base)+
		` && !!document.getElementById("tile-sign-in")`)
	if txt := eval[string](b, "read the page", `document.body.innerText`); strings.Contains(txt, "Ann") || strings.Contains(txt, "queue") {
		t.Fatalf("the welcome page after the reset shows the customer: %s", txt)
	}
	b.do("go back to my visit", chromedp.Navigate(srv.URL+w.base+"/me"))
	b.within(browserStep, "sent home", `location.pathname === `+fmt.Sprintf("%q", w.base)+` && !document.body.innerText.includes("Ann")`)
	var open int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM kiosk_sessions WHERE customer_id IS NOT NULL AND ended_at IS NULL").Scan(&open); err != nil || open != 0 {
		t.Fatalf("identified sessions still open after the reset: %d %v", open, err)
	}
}
