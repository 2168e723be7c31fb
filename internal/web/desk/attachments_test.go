package desk_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/channel/email"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
)

// A mailed attachment is a download for desk users who read cases, with
// its type and nosniff; HTML never comes back as HTML.
func TestAttachmentDownload(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		raw, err := os.ReadFile("../../channel/email/testdata/apple.eml")
		if err != nil {
			t.Fatal(err)
		}
		m, err := email.Parse(raw, email.Limits{})
		if err != nil || len(m.Attachments) == 0 {
			t.Fatalf("fixture: %v", err)
		}
		kind, name := contactpoint.Kind("email"), "Support"
		settings, _ := json.Marshal(map[string]string{"address": "support@acme.example"})
		cp, err := e.s.ContactPoints.Create(e.ctx, contactpoint.Spec{Kind: &kind, Name: &name, Settings: settings})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.s.Mail.Ingest(e.ctx, cp.ID, raw)
		if err != nil {
			t.Fatal(err)
		}
		list, err := e.s.Mail.Attachments(e.ctx, res.InteractionID)
		if err != nil || len(list) == 0 {
			t.Fatalf("attachments %v, %v", list, err)
		}
		path := "/attachments/" + list[0].ID.String()

		if r := e.browser().get(path); r.status != 303 && r.status != 302 && r.status != 401 {
			t.Errorf("signed out: %d, want a redirect to sign in", r.status)
		}
		r := e.signIn(e.user(access.Agent, "Ann")).get(path)
		if r.status != 200 || r.body != string(m.Attachments[0].Data) {
			t.Fatalf("agent: %d, %d bytes", r.status, len(r.body))
		}
		if !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") || r.header.Get("X-Content-Type-Options") != "nosniff" ||
			r.header.Get("Content-Type") != m.Attachments[0].ContentType {
			t.Errorf("headers %v", r.header)
		}
		if r := e.signIn(e.user(access.Agent, "Bo")).get("/attachments/123"); r.status != 404 {
			t.Errorf("unknown attachment: %d, want 404", r.status)
		}
	})
}
