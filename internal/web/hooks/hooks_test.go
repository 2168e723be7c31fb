package hooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/channel/mailbox"
	"github.com/touchpoint-hub/touchpoint/internal/channel/messaging"
	"github.com/touchpoint-hub/touchpoint/internal/channel/meta"
	"github.com/touchpoint-hub/touchpoint/internal/channel/telegram"
	"github.com/touchpoint-hub/touchpoint/internal/channel/twilio"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/outbox"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
	"github.com/touchpoint-hub/touchpoint/internal/web/hooks"
)

// env wires the channel as internal/app does, with the webhook handler on
// a real HTTP server.
type env struct {
	t            *testing.T
	ctx          context.Context
	db           *store.DB
	cps          *contactpoint.Service
	customers    *customer.Service
	interactions *interaction.Service
	cases        *cases.Service
	outbox       *outbox.Service
	mail         *mailbox.Service
	msg          *messaging.Service
	hooks        *hooks.Handler
	srv          *httptest.Server
}

func setup(t *testing.T, db *store.DB) *env {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	b := bus.NewLocal()
	e := &env{t: t, ctx: context.Background(), db: db, cps: contactpoint.NewService(db), customers: customer.NewService(db, "US")}
	e.interactions = interaction.NewService(db, e.customers)
	e.cases = cases.NewService(db, e.customers, e.interactions, b, log)
	e.outbox = outbox.New(db, e.interactions, b, outbox.Options{Log: log})
	e.mail = mailbox.New(db, e.interactions, e.cps, mailbox.Options{Log: log})
	e.msg = messaging.New(db, e.interactions, e.customers, e.cps, e.outbox, messaging.Options{Log: log})
	for _, k := range []contactpoint.Kind{"sms", "whatsapp", "social"} {
		e.outbox.Register(string(k), e.msg.NewSender(k))
	}
	e.outbox.UseContactRules(e.customers, e.cases.BusinessHours)
	e.interactions.SetCaseLinker(outbox.Linker{Next: e.cases, Outbox: e.outbox})
	e.hooks = hooks.New(e.msg, log, nil)
	mux := http.NewServeMux()
	e.hooks.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) point(kind, name, settings string, secrets map[string]string) id.ID {
	e.t.Helper()
	k := contactpoint.Kind(kind)
	cp, err := e.cps.Create(e.ctx, contactpoint.Spec{Kind: &k, Name: &name, Settings: json.RawMessage(settings), Secrets: secrets})
	if err != nil {
		e.t.Fatal(err)
	}
	return cp.ID
}

func (e *env) post(path string, header map[string]string, body string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// twilio posts a form signed for the URL Twilio would have called.
func (e *env) twilio(publicURL, path, token string, form url.Values) int {
	e.t.Helper()
	sig := twilio.Signature(token, publicURL+path, form)
	return e.post(path, map[string]string{"Content-Type": "application/x-www-form-urlencoded", twilio.SignatureHeader: sig}, form.Encode()).StatusCode
}

func (e *env) count(where string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(e.ctx, "SELECT COUNT(*) FROM interactions WHERE "+where, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) customerBy(ident string) *customer.Customer {
	e.t.Helper()
	cs, err := e.customers.FindByIdentifier(e.ctx, ident)
	if err != nil || len(cs) != 1 {
		e.t.Fatalf("customer %s: %v %v", ident, cs, err)
	}
	return cs[0]
}

func (e *env) dispatch() {
	e.t.Helper()
	if _, err := e.outbox.DispatchOnce(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) delivery(interactionID id.ID) *outbox.Status {
	e.t.Helper()
	st, err := e.outbox.Get(e.ctx, interactionID)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) reply(caseID id.ID, body string) id.ID {
	e.t.Helper()
	res, err := e.cases.Reply(e.ctx, cases.Actor{Name: "Ada Agent"}, caseID, cases.Reply{Body: body})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.ID
}

// refusals reads the signature-failure counter of Twilio.
func refusals(t *testing.T, h *hooks.Handler) float64 {
	t.Helper()
	var m dto.Metric
	if err := h.Collectors()[0].(*prometheus.CounterVec).WithLabelValues("twilio").Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func smsForm(sid, from, body string) url.Values {
	return url.Values{"MessageSid": {sid}, "AccountSid": {"AC123"}, "From": {from}, "To": {"+15550100"}, "Body": {body}, "NumMedia": {"0"}}
}

// fake is a provider API on a local server that keeps what it was sent.
type fake struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []fakeReq
}

type fakeReq struct {
	path, auth, contentType, body string
	user, pass                    string
}

func newFake(t *testing.T, answer func(path string) (int, string)) *fake {
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u, p, _ := r.BasicAuth()
		f.mu.Lock()
		f.reqs = append(f.reqs, fakeReq{path: r.URL.Path, auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type"), body: string(b), user: u, pass: p})
		f.mu.Unlock()
		code, out := answer(r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, out)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) got() []fakeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeReq(nil), f.reqs...)
}

func twilioSettings(publicURL, apiURL string, extra string) string {
	return fmt.Sprintf(`{"account_sid":"AC123","from":"+15550100","public_url":%q,"api_base_url":%q%s}`, publicURL, apiURL, extra)
}

func TestTwilioInboundOnceAndSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		// Behind a proxy: Twilio signs the public address, not the Host the
		// hub sees.
		const public = "https://hub.example.com"
		cp := e.point("sms", "Texts", twilioSettings(public, "", ""), map[string]string{"auth_token": "tok"})
		path := "/hooks/twilio/" + cp.String()
		form := smsForm("SM1", "+15551234567", "Where is my parcel?")
		form.Set("NumMedia", "1")
		form.Set("MediaUrl0", "https://api.twilio.com/media/ME1")
		form.Set("MediaContentType0", "image/jpeg")
		for range 3 {
			if code := e.twilio(public, path, "tok", form); code != 200 {
				t.Fatalf("signed post: %d", code)
			}
		}
		src := "twilio:" + cp.String()
		if n := e.count("source = ? AND external_id = 'SM1'", src); n != 1 {
			t.Fatalf("a replayed message is stored %d times", n)
		}
		c := e.customerBy("phone:+15551234567")
		var kind, dir, content, props string
		var caseID *int64
		if err := db.QueryRow(e.ctx, "SELECT kind, direction, content, properties, case_id FROM interactions WHERE source = ?", src).
			Scan(&kind, &dir, &content, &props, &caseID); err != nil {
			t.Fatal(err)
		}
		if kind != "sms" || dir != "inbound" || content != "Where is my parcel?" || caseID == nil ||
			!strings.Contains(props, "https://api.twilio.com/media/ME1") || c.ID == 0 {
			t.Fatalf("stored %s %s %q %s case %v", kind, dir, content, props, caseID)
		}

		before := refusals(t, e.hooks)
		for _, bad := range []struct {
			name string
			code int
		}{
			{"wrong token", e.twilio(public, path, "other", smsForm("SM2", "+15551234567", "hi"))},
			{"the Host's URL, not the public one", e.twilio(e.srv.URL, path, "tok", smsForm("SM3", "+15551234567", "hi"))},
			{"no signature", e.post(path, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, smsForm("SM4", "+15551234567", "hi").Encode()).StatusCode},
		} {
			if bad.code != 403 {
				t.Errorf("%s: %d, want 403", bad.name, bad.code)
			}
		}
		if n := e.count("source = ? AND external_id <> 'SM1'", src); n != 0 {
			t.Fatalf("refused posts left %d rows", n)
		}
		if after := refusals(t, e.hooks); after-before != 3 {
			t.Fatalf("signature failures counted %v, want 3", after-before)
		}
		if code := e.twilio(public, "/hooks/twilio/12345", "tok", smsForm("SM5", "+15551234567", "hi")); code != 404 {
			t.Fatalf("unknown contact point: %d", code)
		}
	})
}

func TestTwilioKeywordsChangeConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		cp := e.point("sms", "Texts", twilioSettings(e.srv.URL, "", ""), map[string]string{"auth_token": "tok"})
		path := "/hooks/twilio/" + cp.String()
		if code := e.twilio(e.srv.URL, path, "tok", smsForm("SM1", "+15551234567", " stop ")); code != 200 {
			t.Fatal(code)
		}
		c := e.customerBy("phone:+15551234567")
		if got := c.Consent["sms"]; got.Status != "opted_out" || got.Source != "twilio:"+cp.String() {
			t.Fatalf("consent after STOP: %+v", got)
		}
		if n := e.count("external_id = 'SM1' AND case_id IS NULL AND outcome = 'opted_out'"); n != 1 {
			t.Fatal("STOP is not on the timeline without a case")
		}
		if code := e.twilio(e.srv.URL, path, "tok", smsForm("SM2", "+15551234567", "START")); code != 200 {
			t.Fatal(code)
		}
		if got := e.customerBy("phone:+15551234567").Consent["sms"]; got.Status != "opted_in" {
			t.Fatalf("consent after START: %+v", got)
		}
	})
}

func TestTwilioReplyAndStatusCallback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		api := newFake(t, func(string) (int, string) { return 201, `{"sid":"SMout1","status":"queued"}` })
		cp := e.point("sms", "Texts", twilioSettings(e.srv.URL, api.srv.URL, ""), map[string]string{"auth_token": "tok"})
		path := "/hooks/twilio/" + cp.String()
		if code := e.twilio(e.srv.URL, path, "tok", smsForm("SM1", "+15551234567", "Hello?")); code != 200 {
			t.Fatal(code)
		}
		var caseID id.ID
		if err := db.QueryRow(e.ctx, "SELECT case_id FROM interactions WHERE external_id = 'SM1'").Scan(&caseID); err != nil {
			t.Fatal(err)
		}
		out := e.reply(caseID, "Your parcel arrives today.")
		e.dispatch()
		reqs := api.got()
		if len(reqs) != 1 {
			t.Fatalf("the fake got %d requests", len(reqs))
		}
		sent, _ := url.ParseQuery(reqs[0].body)
		if reqs[0].path != "/2010-04-01/Accounts/AC123/Messages.json" || reqs[0].user != "AC123" || reqs[0].pass != "tok" ||
			sent.Get("To") != "+15551234567" || sent.Get("From") != "+15550100" || sent.Get("Body") != "Your parcel arrives today." ||
			sent.Get("StatusCallback") != e.srv.URL+path+"/status" {
			t.Fatalf("request to Twilio %+v", reqs[0])
		}
		if st := e.delivery(out); st.State != outbox.Sent || st.ProviderMessageID != "SMout1" || st.Recipient != "+15551234567" {
			t.Fatalf("delivery %+v", st)
		}
		status := url.Values{"MessageSid": {"SMout1"}, "AccountSid": {"AC123"}, "MessageStatus": {"delivered"}, "To": {"+15551234567"}}
		if code := e.twilio(e.srv.URL, path+"/status", "tok", status); code != 204 {
			t.Fatalf("status callback: %d", code)
		}
		// A late "sent" does not move it back.
		status.Set("MessageStatus", "sent")
		e.twilio(e.srv.URL, path+"/status", "tok", status)
		it, err := e.interactions.Get(e.ctx, out)
		if err != nil {
			t.Fatal(err)
		}
		if st := e.delivery(out); st.State != outbox.Delivered || it.DeliveryStatus != outbox.Delivered {
			t.Fatalf("after the callbacks: delivery %s, interaction %s", st.State, it.DeliveryStatus)
		}
		if code := e.twilio(e.srv.URL, path+"/status", "bad", status); code != 403 {
			t.Fatalf("unsigned status callback: %d", code)
		}
	})
}

func TestTwilioUnsubscribedWithdrawsConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		api := newFake(t, func(string) (int, string) {
			return 400, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`
		})
		cp := e.point("whatsapp", "WhatsApp", twilioSettings(e.srv.URL, api.srv.URL, ""), map[string]string{"auth_token": "tok"})
		form := smsForm("SM1", "whatsapp:+15551234567", "hi")
		form.Set("To", "whatsapp:+15550100")
		form.Set("ProfileName", "Nia N")
		if code := e.twilio(e.srv.URL, "/hooks/twilio/"+cp.String(), "tok", form); code != 200 {
			t.Fatal(code)
		}
		c := e.customerBy("phone:+15551234567")
		if c.Name != "Nia N" {
			t.Fatalf("profile name not taken for a customer without one: %q", c.Name)
		}
		var caseID id.ID
		db.QueryRow(e.ctx, "SELECT case_id FROM interactions WHERE external_id = 'SM1'").Scan(&caseID)
		out := e.reply(caseID, "Hello")
		e.dispatch()
		reqs := api.got()
		sent, _ := url.ParseQuery(reqs[0].body)
		if sent.Get("To") != "whatsapp:+15551234567" || sent.Get("From") != "whatsapp:+15550100" {
			t.Fatalf("WhatsApp request %v", sent)
		}
		if st := e.delivery(out); st.State != outbox.Failed || !strings.Contains(st.LastError, "21610") {
			t.Fatalf("delivery %+v", st)
		}
		if got := e.customerBy("phone:+15551234567").Consent["whatsapp"]; got.Status != "opted_out" {
			t.Fatalf("21610 left consent %+v", got)
		}
	})
}

func TestMetaVerifyEventsAndReply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		graph := newFake(t, func(string) (int, string) {
			return 200, `{"messaging_product":"whatsapp","contacts":[{"wa_id":"4915123456789"}],"messages":[{"id":"wamid.OUT1"}]}`
		})
		cp := e.point("social", "WhatsApp Cloud",
			fmt.Sprintf(`{"platform":"whatsapp","phone_number_id":"1066","graph_version":"v23.0","api_base_url":%q}`, graph.srv.URL),
			map[string]string{"app_secret": "shh", "access_token": "EAAB", "verify_token": "vt"})
		path := "/hooks/meta/" + cp.String()

		resp, err := http.Get(e.srv.URL + path + "?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1158201444")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "1158201444" {
			t.Fatalf("challenge: %d %q", resp.StatusCode, b)
		}
		resp, _ = http.Get(e.srv.URL + path + "?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
		if resp.StatusCode != 403 {
			t.Fatalf("wrong verify token: %d", resp.StatusCode)
		}

		event := func(body string) string {
			return `{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550100","phone_number_id":"1066"},` + body + `}}]}]}`
		}
		now := fmt.Sprint(time.Now().Unix())
		in := event(`"contacts":[{"profile":{"name":"Jonas"},"wa_id":"4915123456789"}],"messages":[{"from":"4915123456789","id":"wamid.IN1","timestamp":"` + now + `","type":"text","text":{"body":"Hallo"}}]`)
		sign := func(body, secret string) map[string]string {
			return map[string]string{"Content-Type": "application/json", meta.SignatureHeader: fmt.Sprintf("sha256=%x", meta.Sign(secret, []byte(body)))}
		}
		if code := e.post(path, sign(in, "wrong"), in).StatusCode; code != 403 {
			t.Fatalf("bad signature: %d", code)
		}
		if n := e.count("source = ?", "meta:"+cp.String()); n != 0 {
			t.Fatal("a refused event left a row")
		}
		for range 2 {
			if code := e.post(path, sign(in, "shh"), in).StatusCode; code != 200 {
				t.Fatalf("signed event: %d", code)
			}
		}
		if n := e.count("source = ? AND external_id = 'wamid.IN1' AND kind = 'message'", "meta:"+cp.String()); n != 1 {
			t.Fatalf("stored %d times", n)
		}
		c := e.customerBy("phone:+4915123456789")
		var caseID id.ID
		db.QueryRow(e.ctx, "SELECT case_id FROM interactions WHERE external_id = 'wamid.IN1'").Scan(&caseID)
		if c.Name != "Jonas" || caseID == 0 {
			t.Fatalf("customer %q, case %v", c.Name, caseID)
		}

		out := e.reply(caseID, "Guten Tag")
		e.dispatch()
		reqs := graph.got()
		if len(reqs) != 1 || reqs[0].path != "/v23.0/1066/messages" || reqs[0].auth != "Bearer EAAB" ||
			!strings.Contains(reqs[0].body, `"to":"4915123456789"`) || !strings.Contains(reqs[0].body, `"body":"Guten Tag"`) {
			t.Fatalf("Graph requests %+v", reqs)
		}
		if st := e.delivery(out); st.State != outbox.Sent || st.ProviderMessageID != "wamid.OUT1" {
			t.Fatalf("delivery %+v", st)
		}
		status := event(`"statuses":[{"id":"wamid.OUT1","status":"read","timestamp":"1760000100","recipient_id":"4915123456789"}]`)
		if code := e.post(path, sign(status, "shh"), status).StatusCode; code != 200 {
			t.Fatal(code)
		}
		if st := e.delivery(out); st.State != outbox.Read {
			t.Fatalf("after the read status: %s", st.State)
		}
	})
}

func TestMessengerEventAndReply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		graph := newFake(t, func(string) (int, string) { return 200, `{"recipient_id":"PSID7","message_id":"m_OUT"}` })
		cp := e.point("social", "Facebook page", fmt.Sprintf(`{"platform":"messenger","page_id":"P1","api_base_url":%q}`, graph.srv.URL),
			map[string]string{"app_secret": "shh", "access_token": "PAGE"})
		ms := fmt.Sprint(time.Now().UnixMilli())
		in := `{"object":"page","entry":[{"id":"P1","time":` + ms + `,"messaging":[{"sender":{"id":"PSID7"},"recipient":{"id":"P1"},"timestamp":` + ms + `,"message":{"mid":"m_IN","text":"hi","attachments":[{"type":"image","payload":{"url":"https://cdn.example/x.jpg"}}]}}]}]}`
		h := map[string]string{"Content-Type": "application/json", meta.SignatureHeader: fmt.Sprintf("sha256=%x", meta.Sign("shh", []byte(in)))}
		if code := e.post("/hooks/meta/"+cp.String(), h, in).StatusCode; code != 200 {
			t.Fatal(code)
		}
		e.customerBy("social:messenger:PSID7")
		var caseID id.ID
		var props string
		db.QueryRow(e.ctx, "SELECT case_id, properties FROM interactions WHERE external_id = 'm_IN'").Scan(&caseID, &props)
		if !strings.Contains(props, "https://cdn.example/x.jpg") {
			t.Fatalf("media not kept: %s", props)
		}
		out := e.reply(caseID, "hello")
		e.dispatch()
		if reqs := graph.got(); len(reqs) != 1 || reqs[0].path != "/v23.0/me/messages" || !strings.Contains(reqs[0].body, `"id":"PSID7"`) {
			t.Fatalf("Graph requests %+v", reqs)
		}
		if st := e.delivery(out); st.State != outbox.Sent || st.ProviderMessageID != "m_OUT" {
			t.Fatalf("delivery %+v", st)
		}
	})
}

func TestTelegramUpdateAndSend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		bot := newFake(t, func(string) (int, string) {
			return 200, `{"ok":true,"result":{"message_id":99,"date":1760000100,"chat":{"id":4242}}}`
		})
		cp := e.point("social", "Telegram bot", fmt.Sprintf(`{"platform":"telegram","bot_username":"acme_bot","api_base_url":%q}`, bot.srv.URL),
			map[string]string{"bot_token": "123:ABC", "webhook_secret": "s3cret"})
		path := "/hooks/telegram/" + cp.String()
		upd := `{"update_id":1,"message":{"message_id":7,"from":{"id":4242,"is_bot":false,"first_name":"Ann","username":"ann"},"chat":{"id":4242,"type":"private"},"date":` + fmt.Sprint(time.Now().Unix()) + `,"text":"Hi bot"}}`
		if code := e.post(path, map[string]string{telegram.SecretTokenHeader: "nope"}, upd).StatusCode; code != 403 {
			t.Fatalf("wrong secret: %d", code)
		}
		for range 2 {
			if code := e.post(path, map[string]string{telegram.SecretTokenHeader: "s3cret"}, upd).StatusCode; code != 200 {
				t.Fatalf("update: %d", code)
			}
		}
		if n := e.count("source = ?", "telegram:"+cp.String()); n != 1 {
			t.Fatalf("stored %d times", n)
		}
		c := e.customerBy("social:telegram:4242")
		if c.Name != "Ann" {
			t.Fatalf("name %q", c.Name)
		}
		var caseID id.ID
		db.QueryRow(e.ctx, "SELECT case_id FROM interactions WHERE external_id = '4242:7'").Scan(&caseID)
		out := e.reply(caseID, "Hello Ann")
		e.dispatch()
		reqs := bot.got()
		if len(reqs) != 1 || reqs[0].path != "/bot123:ABC/sendMessage" || !strings.Contains(reqs[0].body, `"chat_id":4242`) {
			t.Fatalf("bot requests %+v", reqs)
		}
		if st := e.delivery(out); st.State != outbox.Sent || st.ProviderMessageID != "4242:99" {
			t.Fatalf("delivery %+v", st)
		}
	})
}

func TestConsentAndQuietHours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		api := newFake(t, func(string) (int, string) { return 201, `{"sid":"SMq","status":"queued"}` })
		cp := e.point("sms", "Texts", twilioSettings(e.srv.URL, api.srv.URL, `,"quiet_hours":"21:00-08:00","time_zone":"UTC"`),
			map[string]string{"auth_token": "tok"})
		// Two days ago the customer texted; today's message is not a reply.
		res, err := e.interactions.Record(e.ctx, []interaction.Input{{ContactPointID: cp, Kind: "sms", Direction: interaction.Inbound,
			OccurredAt: time.Now().Add(-48 * time.Hour), Content: "old", Source: "test", ExternalID: "old",
			Identifiers: []customer.RawIdentifier{{Kind: "phone", Value: "+15551234567"}}}})
		if err != nil {
			t.Fatal(err)
		}
		caseID := *res[0].CaseID
		out := e.reply(caseID, "Still there?")
		e.dispatch()
		if st := e.delivery(out); st.State != outbox.Failed || !strings.Contains(st.LastError, "has not agreed") {
			t.Fatalf("without consent: %+v", st)
		}
		if len(api.got()) != 0 {
			t.Fatal("sent without consent")
		}

		// With consent, at 22:00 UTC: held until 08:00, no attempt spent.
		if _, err := e.customers.Update(e.ctx, res[0].CustomerID, customer.Profile{Consent: map[string]customer.Consent{"sms": {Status: "opted_in"}}}, "test"); err != nil {
			t.Fatal(err)
		}
		night := time.Now().UTC().Add(24 * time.Hour).Truncate(24 * time.Hour).Add(22 * time.Hour)
		e.outbox.SetClock(func() time.Time { return night })
		out = e.reply(caseID, "Your refund is on its way.")
		e.dispatch()
		st := e.delivery(out)
		morning := night.Truncate(24 * time.Hour).Add(32 * time.Hour)
		if st.State != outbox.Queued || st.Attempts != 0 || st.NextAttemptAt == nil || !st.NextAttemptAt.Equal(morning) ||
			!strings.Contains(st.LastError, "quiet hours") {
			t.Fatalf("at night: %+v (want held until %s)", st, morning)
		}
		if len(api.got()) != 0 {
			t.Fatal("sent during quiet hours")
		}
		e.outbox.SetClock(func() time.Time { return morning.Add(time.Minute) })
		e.dispatch()
		if st := e.delivery(out); st.State != outbox.Sent || len(api.got()) != 1 {
			t.Fatalf("in the morning: %+v, %d sent", st, len(api.got()))
		}

		// The customer opted out: refused even as a reply.
		e.outbox.SetClock(time.Now)
		if code := e.twilio(e.srv.URL, "/hooks/twilio/"+cp.String(), "tok", smsForm("SMstop", "+15551234567", "STOP")); code != 200 {
			t.Fatal(code)
		}
		out = e.reply(caseID, "One more thing")
		e.dispatch()
		if st := e.delivery(out); st.State != outbox.Failed || !strings.Contains(st.LastError, "opted out") {
			t.Fatalf("after STOP: %+v", st)
		}
	})
}

// A customer who writes by email, then chats, then texts from the phone on
// file is one customer with one case.
func TestOneCustomerAcrossChannels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		mailCP := e.point("email", "Support", `{"address":"support@acme.example"}`, nil)
		chatCP := e.point("web_chat", "Chat", `{}`, nil)
		smsCP := e.point("sms", "Texts", twilioSettings(e.srv.URL, "", ""), map[string]string{"auth_token": "tok"})

		raw, err := os.ReadFile("testdata/first.eml")
		if err != nil {
			t.Fatal(err)
		}
		m, err := e.mail.Ingest(e.ctx, mailCP, raw)
		if err != nil {
			t.Fatal(err)
		}
		// The chat visitor leaves the same email and a phone number (the
		// widget records chats with what the visitor said).
		chat, err := e.interactions.Record(e.ctx, []interaction.Input{{ContactPointID: chatCP, Kind: "chat", Direction: interaction.Inbound,
			Content: "Following up on my email", Source: "test-chat", ExternalID: "c1",
			Identifiers: []customer.RawIdentifier{{Kind: "email", Value: "Nia@Example.com"}, {Kind: "phone", Value: "(555) 123-4567"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if code := e.twilio(e.srv.URL, "/hooks/twilio/"+smsCP.String(), "tok", smsForm("SM1", "+15551234567", "Any news?")); code != 200 {
			t.Fatal(code)
		}
		var smsCust, smsCase id.ID
		if err := db.QueryRow(e.ctx, "SELECT customer_id, case_id FROM interactions WHERE external_id = 'SM1'").Scan(&smsCust, &smsCase); err != nil {
			t.Fatal(err)
		}
		c := e.customerBy("phone:+15551234567")
		if c.ID != m.CustomerID || chat[0].CustomerID != m.CustomerID {
			t.Fatalf("customers: email %s, chat %s, sms %s", m.CustomerID, chat[0].CustomerID, c.ID)
		}
		if m.CaseID == 0 || *chat[0].CaseID != m.CaseID || smsCase != m.CaseID {
			t.Fatalf("cases: email %s, chat %v, sms %s", m.CaseID, *chat[0].CaseID, smsCase)
		}
		var cases int
		db.QueryRow(e.ctx, "SELECT COUNT(*) FROM cases").Scan(&cases)
		if cases != 1 {
			t.Fatalf("%d cases", cases)
		}
	})
}
