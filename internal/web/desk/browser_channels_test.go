package desk_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

// TestBrowserWebhookSecretAndFailedReply: an administrator adds a webhook
// subscription and sees its secret once; an agent sees a reply the provider
// refused, with the reason, retries it, and watches its state change live.
func TestBrowserWebhookSecretAndFailedReply(t *testing.T) {
	chrome := findChromium(t)
	w := newBrowserWorld(t)
	ctx := t.Context()
	admin, err := w.s.Access.CreateUser(ctx, "ada.admin@northwind.example", "Ada Admin", access.Admin, browserPassword, "test")
	if err != nil {
		t.Fatal(err)
	}
	const refusal = "21610: the recipient has unsubscribed"
	w.s.Outbox.Register("sms", refusingSender{refusal})
	caseID := w.record(t, interaction.Input{Identifiers: []customer.RawIdentifier{{Kind: "phone", Value: "+1 212 555 0123"}},
		Traits: map[string]any{"name": "Noah Baker"}, ContactPointID: w.cps["sms"], Kind: "sms", Direction: "inbound",
		Content: "Is my fridge still arriving tomorrow?"})
	reply, err := w.s.Cases.Reply(ctx, cases.Actor{UserID: w.agentA.ID, Name: w.agentA.Name}, caseID, cases.Reply{Body: "Yes, between 9 and 12."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Outbox.DispatchOnce(ctx); err != nil {
		t.Fatal(err)
	}

	a := openBrowser(t, chrome, "admin")
	a.signIn(w, admin)
	a.load("open the webhooks", chromedp.Navigate(w.srv.URL+"/admin/webhooks"))
	a.do("fill in a subscription",
		chromedp.SendKeys(chromedp.ID("nw-name"), "CRM sync"),
		chromedp.SendKeys(chromedp.ID("nw-url"), "https://crm.example.com/touchpoint/hooks"))
	a.load("add it", chromedp.Click(chromedp.CSS(`form[action="/admin/webhooks"] button[type="submit"]`)))
	secret := evalIn[string](a, "read the secret", `document.getElementById("wh-secret")?.value ?? ""`)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the new subscription's page shows the secret %q", secret)
	}
	a.load("open the subscription again", chromedp.Navigate(w.srv.URL+a.path()))
	if html := evalIn[string](a, "read the page", "document.documentElement.outerHTML"); strings.Contains(html, secret) {
		t.Error("the secret is shown again on the subscription's page")
	}
	a.noScriptErrors()

	b := openBrowser(t, chrome, "agent")
	b.signIn(w, w.agentA)
	b.openCase(w, caseID)
	entry := "#i-" + reply.ID.String()
	b.within(browserStep, "the failed reply with its reason", textIn(entry, refusal))
	if got := evalIn[string](b, "read the state", `document.querySelector("`+entry+` .delivery")?.textContent ?? ""`); got != "Failed" {
		t.Fatalf("the reply's state reads %q, want Failed", got)
	}
	b.load("retry it", chromedp.Click(chromedp.CSS(entry+` .delivery-detail button[type="submit"]`)))
	b.do("wait for the live connection", chromedp.WaitReady(chromedp.CSS("#live-status.on")))
	b.within(browserStep, "the reply queued again", textIn(entry+" .delivery", "Queued"))
	if _, err := w.s.Outbox.DispatchOnce(ctx); err != nil {
		t.Fatal(err)
	}
	b.within(browserStep, "the reply failing again, live", textIn(entry+" .delivery", "Failed"))
	b.noScriptErrors()
}
