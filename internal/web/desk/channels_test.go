package desk_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/outbox"
)

// refusingSender is a channel whose provider refuses every message for good.
type refusingSender struct{ reason string }

func (refusingSender) Ready(json.RawMessage) bool { return true }
func (s refusingSender) Send(context.Context, outbox.Delivery) (outbox.Result, error) {
	return outbox.Result{}, outbox.Permanent(errors.New(s.reason))
}

var createdIDRE = regexp.MustCompile(`action="/admin/(?:contact-points|webhooks)/(\d+)"`)

// createdID reads the id of what a create form made from the page it answered.
func createdID(t *testing.T, body string) string {
	t.Helper()
	m := createdIDRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form of the new item on the page:\n%s", body)
	}
	return m[1]
}

// fieldError returns the error text tied to the input named name through
// aria-describedby, "" if none.
func fieldError(t *testing.T, body, name string) string {
	t.Helper()
	doc := parse(t, body)
	texts := map[string]string{}
	var described string
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if idv, ok := attr(n, "id"); ok {
			texts[idv] = textOf(n)
		}
		if nm, _ := attr(n, "name"); nm == name {
			described, _ = attr(n, "aria-describedby")
		}
	})
	for _, ref := range strings.Fields(described) {
		if strings.HasPrefix(ref, "e-") || strings.HasSuffix(ref, "-error") {
			return texts[ref]
		}
	}
	return ""
}

func TestAdminChannelSecretsAreWriteOnly(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		b := e.signIn(e.user(access.Admin, "Ada Admin"))
		res := b.post("/admin/contact-points", url.Values{"kind": {"email"}, "name": {"Support mailbox"}})
		if res.status != http.StatusOK {
			t.Fatalf("creating an email contact point: %d\n%s", res.status, res.body)
		}
		emailID := createdID(t, res.body)
		const imapPass, smtpPass = "imap-pass-Zq81vX", "smtp-pass-Lk29wR"
		form := url.Values{"name": {"Support mailbox"}, "contact_level": {"low"}, "online": {"on"},
			"s.address": {"help@example.com"}, "s.imap.host": {"imap.example.com"}, "s.imap.port": {"993"}, "s.imap.tls": {"tls"},
			"s.imap.user": {"help"}, "s.smtp.host": {"smtp.example.com"}, "s.smtp.port": {"587"}, "s.smtp.tls": {"starttls"},
			"secret.imap_password": {imapPass}, "secret.smtp_password": {smtpPass}}
		if res := b.post("/admin/contact-points/"+emailID, form); res.status != http.StatusSeeOther {
			t.Fatalf("saving the email settings: %d\n%s", res.status, res.body)
		}
		cpID, _ := id.Parse(emailID)
		secrets, _ := e.s.ContactPoints.Secrets(e.ctx, cpID)
		if secrets["imap_password"] != imapPass || secrets["smtp_password"] != smtpPass {
			t.Fatalf("secrets after saving: %v", secrets)
		}
		cp, _ := e.s.ContactPoints.Get(e.ctx, cpID)
		var st map[string]any
		_ = json.Unmarshal(cp.Settings, &st)
		if imap, _ := st["imap"].(map[string]any); st["address"] != "help@example.com" || imap["host"] != "imap.example.com" || imap["port"] != float64(993) {
			t.Errorf("settings saved as %s", cp.Settings)
		}

		// Other channels with secrets, and a webhook with its signing secret.
		res = b.post("/admin/contact-points", url.Values{"kind": {"sms"}, "name": {"Text line"}})
		smsID := createdID(t, res.body)
		const authToken = "twilio-token-Hh73pQ"
		if res := b.post("/admin/contact-points/"+smsID, url.Values{"name": {"Text line"}, "contact_level": {"low"},
			"s.account_sid": {"AC0123456789abcdef0123456789abcdef"}, "s.from": {"+15550100"}, "secret.auth_token": {authToken}}); res.status != http.StatusSeeOther {
			t.Fatalf("saving the sms settings: %d\n%s", res.status, res.body)
		}
		res = b.post("/admin/contact-points", url.Values{"kind": {"web_chat"}, "name": {"Website chat"}})
		widget := regexp.MustCompile(`value="(ws_[^"]+)"`).FindStringSubmatch(res.body)
		if widget == nil {
			t.Fatal("the widget secret of a new chat contact point is not shown on its creation")
		}
		res = b.post("/admin/webhooks", url.Values{"name": {"CRM"}, "url": {"https://crm.example.com/hooks"}, "events": {"case.created", "case.updated"}})
		if res.status != http.StatusOK {
			t.Fatalf("creating a webhook: %d\n%s", res.status, res.body)
		}
		hookSecret := regexp.MustCompile(`value="(whsec_[^"]+)"`).FindStringSubmatch(res.body)
		if hookSecret == nil || !strings.Contains(res.body, "shown this once") {
			t.Fatal("the new webhook's secret is not shown once on its creation")
		}
		hookID := createdID(t, res.body)

		// No page shows any secret again.
		pages := []string{"/admin/contact-points", "/admin/contact-points/" + emailID, "/admin/contact-points/" + smsID,
			"/admin/webhooks", "/admin/webhooks/" + hookID, "/admin/users", "/"}
		for _, p := range pages {
			res := b.get(p)
			if res.status != http.StatusOK {
				t.Errorf("GET %s: %d", p, res.status)
			}
			for _, s := range []string{imapPass, smtpPass, authToken, widget[1], hookSecret[1]} {
				if strings.Contains(res.body, s) {
					t.Errorf("GET %s shows the secret %q", p, s)
				}
			}
		}
		page := b.get("/admin/contact-points/" + smsID).body
		if !strings.Contains(page, "/hooks/twilio/"+smsID) {
			t.Error("the sms page does not show its inbound webhook URL")
		}
		if n := strings.Count(b.get("/admin/contact-points/"+emailID).body, ">set<"); n != 2 {
			t.Errorf("the email page marks %d secrets as set, want 2", n)
		}

		// An empty password field keeps the secret; "clear" removes it.
		form.Del("secret.imap_password")
		form.Del("secret.smtp_password")
		form.Set("clear", "smtp_password")
		if res := b.post("/admin/contact-points/"+emailID, form); res.status != http.StatusSeeOther {
			t.Fatalf("saving without passwords: %d\n%s", res.status, res.body)
		}
		secrets, _ = e.s.ContactPoints.Secrets(e.ctx, cpID)
		if secrets["imap_password"] != imapPass {
			t.Errorf("an empty password field changed the IMAP password: %v", secrets)
		}
		if _, ok := secrets["smtp_password"]; ok {
			t.Errorf("clear kept the SMTP password")
		}

		// Bad values are refused, each explained next to its field, and nothing is saved.
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Del("clear")
		bad.Set("s.address", "not an address")
		bad.Set("s.imap.port", "99999")
		bad.Set("secret.imap_password", "must-not-be-saved")
		res = b.post("/admin/contact-points/"+emailID, bad)
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad settings: %d", res.status)
		}
		if msg := fieldError(t, res.body, "s.address"); !strings.Contains(msg, "email address") {
			t.Errorf("the address error says %q", msg)
		}
		if msg := fieldError(t, res.body, "s.imap.port"); !strings.Contains(msg, "1 to 65535") {
			t.Errorf("the port error says %q", msg)
		}
		if strings.Contains(res.body, "must-not-be-saved") {
			t.Error("the refused form shows the typed password again")
		}
		if secrets, _ = e.s.ContactPoints.Secrets(e.ctx, cpID); secrets["imap_password"] != imapPass {
			t.Errorf("a refused form changed the password")
		}
		if msg := fieldError(t, b.post("/admin/contact-points", url.Values{"kind": {"carrier_pigeon"}, "name": {"x"}}).body, "kind"); msg == "" {
			t.Error("an unknown kind is not explained next to the kind")
		}
	})
}

func TestCasePageEmailAndDeliveries(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		email := e.contactPoint("email", "support@example.com")
		sms := e.contactPoint("sms", "Text line")
		e.s.Outbox.Register("sms", refusingSender{"21610: the recipient has unsubscribed"})

		// Hostile markup in the stored HTML (as if the email package had
		// let it through) must not become live markup.
		hostile := `<p>Hello <b>there</b></p>` + strings.Join(payloads, " ")
		props, _ := json.Marshal(map[string]any{"html": hostile, "email_kind": "person"})
		r := e.record(interaction.Input{Identifiers: []customer.RawIdentifier{{Kind: "phone", Value: "+1 212 555 0199"}, {Kind: "email", Value: "eve@example.com"}},
			ContactPointID: email, Kind: "email", Direction: "inbound", Subject: "Hi", Content: "Hello there (plain)", Properties: props, Source: "test", ExternalID: "h-1"})
		caseID := *r.CaseID
		e.record(interaction.Input{CustomerID: r.CustomerID, ContactPointID: sms, Kind: "sms", Direction: "inbound", Content: "Any news?", Source: "test", ExternalID: "s-1"})
		agent := e.user(access.Agent, "Ann Agent")
		reply, err := e.s.Cases.Reply(e.ctx, cases.Actor{UserID: agent.ID, Name: agent.Name}, caseID, cases.Reply{ContactPointID: sms, Body: "It ships today."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Outbox.DispatchOnce(e.ctx); err != nil {
			t.Fatal(err)
		}
		b := e.signIn(agent)
		res := b.get("/cases/" + caseID.String())
		if res.status != http.StatusOK {
			t.Fatalf("case page: %d", res.status)
		}
		doc := parse(t, res.body)
		for _, p := range scriptProblems(doc) {
			t.Errorf("case page: %s", p)
		}
		if !strings.Contains(res.body, "<b>there</b>") || !strings.Contains(res.body, "Hello there (plain)") || !strings.Contains(res.body, "data-toggle-view") {
			t.Error("the email's formatted body, its plain text or the toggle is missing")
		}
		text := textOf(doc)
		for _, want := range []string{"Failed", "21610: the recipient has unsubscribed", "Retry now"} {
			if !strings.Contains(text, want) {
				t.Errorf("the failed reply does not show %q", want)
			}
		}
		f := formValues(t, res.body, "/cases/"+caseID.String()+"/retry")
		if f.Get("interaction_id") != reply.ID.String() {
			t.Fatalf("the retry form names %q, want the reply %s", f.Get("interaction_id"), reply.ID)
		}
		if res := b.post("/cases/"+caseID.String()+"/retry", f); res.status != http.StatusSeeOther {
			t.Fatalf("retry: %d %s", res.status, res.body)
		}
		if st, _ := e.s.Outbox.Get(e.ctx, reply.ID); st.State != outbox.Queued || st.NextAttemptAt == nil {
			t.Errorf("after retry the delivery is %+v, want queued and due", st)
		}
		if res := b.post("/cases/"+caseID.String()+"/retry", f); res.status != http.StatusConflict {
			t.Errorf("retrying a queued reply: %d, want 409", res.status)
		}
		if strings.Contains(b.get("/cases/"+caseID.String()).body, "Retry now") {
			t.Error("a queued reply still offers Retry now")
		}
	})
}

func TestCasePageListsEmailAttachments(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		kind, name := contactpoint.Kind("email"), "Support"
		cp, err := e.s.ContactPoints.Create(e.ctx, contactpoint.Spec{Kind: &kind, Name: &name, Settings: json.RawMessage(`{"address":"support@example.com"}`)})
		if err != nil {
			t.Fatal(err)
		}
		raw := "From: Ann <ann@example.com>\r\nTo: support@example.com\r\nSubject: Invoice\r\nMessage-ID: <a1@example.com>\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
			"<p>See the <i>attached</i> invoice.</p>\r\n--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice-48213.pdf\"\r\n" +
			"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XX--\r\n"
		res, err := e.s.Mail.Ingest(e.ctx, cp.ID, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		atts, err := e.s.Mail.Attachments(e.ctx, res.InteractionID)
		if err != nil || len(atts) != 1 {
			t.Fatalf("attachments %v, %v", atts, err)
		}
		b := e.signIn(e.user(access.Agent, "Ann Agent"))
		page := b.get("/cases/" + res.CaseID.String()).body
		if !strings.Contains(page, `href="/attachments/`+atts[0].ID.String()+`"`) || !strings.Contains(page, "invoice-48213.pdf") {
			t.Error("the case page does not link the attachment")
		}
		if !strings.Contains(page, "<i>attached</i>") {
			t.Error("the case page does not show the formatted body")
		}
	})
}
