package meta

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const appSecret = "6a1f0c2e9b8d7a6f5e4d3c2b1a0f9e8d"

func header(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(Sign(secret, body))
}

func TestValidateSignature(t *testing.T) {
	body := readFile(t, "whatsapp_text.json")
	good := header(appSecret, body)
	cases := []struct {
		name   string
		secret string
		body   []byte
		header string
		want   bool
	}{
		{"valid", appSecret, body, good, true},
		{"upper-case hex", appSecret, body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), true},
		{"tampered body", appSecret, append([]byte(nil), append(body, ' ')...), good, false},
		{"keys reordered by re-encoding", appSecret, reencode(t, body), good, false},
		{"wrong secret", "0000", body, good, false},
		{"empty secret", "", body, header("", body), false},
		{"missing header", appSecret, body, "", false},
		{"sha1 header", appSecret, body, "sha1=" + strings.TrimPrefix(good, "sha256="), false},
		{"no prefix", appSecret, body, strings.TrimPrefix(good, "sha256="), false},
		{"not hex", appSecret, body, "sha256=zz", false},
		{"truncated", appSecret, body, good[:len(good)-2], false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ValidateSignature(c.secret, c.body, c.header); got != c.want {
				t.Errorf("ValidateSignature = %v, want %v", got, c.want)
			}
		})
	}
}

// A vector fixed outside this code: HMAC-SHA256 of a short body with a known key.
func TestSignKnownVector(t *testing.T) {
	// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
	got := hex.EncodeToString(Sign("Jefe", []byte("what do ya want for nothing?")))
	if got != "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Fatal(got)
	}
	if !ValidateSignature("Jefe", []byte("what do ya want for nothing?"), "sha256="+got) {
		t.Fatal("refused the RFC 4231 vector")
	}
}

func reencode(t *testing.T, body []byte) []byte {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return b
}

func TestVerifyChallenge(t *testing.T) {
	q := func(mode, token, challenge string) url.Values {
		return url.Values{"hub.mode": {mode}, "hub.verify_token": {token}, "hub.challenge": {challenge}}
	}
	got, err := VerifyChallenge(q("subscribe", "tp-verify-7", "1158201444"), "tp-verify-7")
	if err != nil || got != "1158201444" {
		t.Fatalf("got %q, %v", got, err)
	}
	cases := []struct {
		name  string
		query url.Values
		token string
		field string
	}{
		{"wrong token", q("subscribe", "guess", "1"), "tp-verify-7", "hub.verify_token"},
		{"no token configured", q("subscribe", "", "1"), "", "hub.verify_token"},
		{"unsubscribe", q("unsubscribe", "tp-verify-7", "1"), "tp-verify-7", "hub.mode"},
		{"no mode", url.Values{}, "tp-verify-7", "hub.mode"},
		{"script challenge", q("subscribe", "tp-verify-7", "<script>"), "tp-verify-7", "hub.challenge"},
		{"empty challenge", q("subscribe", "tp-verify-7", ""), "tp-verify-7", "hub.challenge"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := VerifyChallenge(c.query, c.token)
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Field != c.field || !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("err = %v, want VerifyError on %s", err, c.field)
			}
		})
	}
}

func ms(n int64) time.Time  { return time.UnixMilli(n).UTC() }
func sec(n int64) time.Time { return time.Unix(n, 0).UTC() }

func TestParseWebhook(t *testing.T) {
	cases := []struct {
		file string
		want Webhook
	}{
		{"messenger_text.json", Webhook{Object: "page", Messages: []Inbound{{
			Channel: ChannelMessenger, ExternalID: "m_Q2hhdE1lc3NhZ2VJZDEyMzQ1Njc4OTA",
			From: "7012345678901234", To: "104875331234567",
			Text: "Is the Main Street store open on Sunday?", At: ms(1714478041874),
		}}}},
		{"messenger_attachments_echo.json", Webhook{Object: "page", Ignored: 2, Messages: []Inbound{{
			Channel: ChannelMessenger, ExternalID: "m_SW1hZ2VNZXNzYWdlSWQ5ODc2NTQzMjE",
			From: "7012345678901234", To: "104875331234567", At: ms(1714478100321),
			Media: []Media{
				{Type: "image", URL: "https://scontent.xx.fbcdn.net/v/t1.15752-9/receipt.jpg?stp=dst-jpg&_nc_cat=1"},
				{Type: "file", URL: "https://cdn.fbsbx.com/v/t59.2708-21/invoice-2024-0412.pdf"},
			},
			ReplyTo: "m_UHJldmlvdXNBZ2VudFJlcGx5",
		}}}},
		{"instagram_text.json", Webhook{Object: "instagram", Messages: []Inbound{{
			Channel:    ChannelInstagram,
			ExternalID: "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMDk0OTEyODE2MzQ2NTI4MDQ5MTQ5NDozMTk2NzY3MjI3NjQ5NjQ0NjM3MzIzMzkxMjgzNzg1NjAwMAZDZD",
			From:       "6203918475629104", To: "17841405822304914",
			Text: "Vi la campaña de primavera, ¿hay envío gratis a Valencia? 🌸", At: ms(1714478999876),
		}}}},
		{"whatsapp_text.json", Webhook{Object: "whatsapp_business_account", Messages: []Inbound{{
			Channel: ChannelWhatsApp, ExternalID: "wamid.HBgMMjMzMjQxMjM0NTY3FQIAEhggQTFCMkMzRDRFNUY2QTdCOEM5RDBFMUYyQTNCNEM1RDYA",
			From: "233241234567", To: "106540352242922", Type: "text",
			Text: "My bill shows a late fee but I paid on the 2nd.", At: sec(1714480211),
			ProfileName: "Kofi Mensah", DisplayPhoneNumber: "15550783881",
		}}}},
		{"whatsapp_image_reply.json", Webhook{Object: "whatsapp_business_account", Messages: []Inbound{
			{
				Channel: ChannelWhatsApp, ExternalID: "wamid.HBgMMjMzMjQxMjM0NTY3FQIAEhggUkVDRUlQVElNQUdFMDAwMDAwMDAwMDAwMDAwMDAwMDAA",
				From: "233241234567", To: "106540352242922", Type: "image", Text: "Receipt from the bank",
				Media: []Media{{Type: "image", ID: "1479537139650973", MimeType: "image/jpeg", Caption: "Receipt from the bank"}},
				At:    sec(1714480322), ProfileName: "Kofi Mensah", DisplayPhoneNumber: "15550783881",
				ReplyTo: "wamid.HBgMMjMzMjQxMjM0NTY3FQIAERgSQUdFTlRSRVBMWTAwMQA=",
			},
			{
				Channel: ChannelWhatsApp, ExternalID: "wamid.HBgMMjMzMjQxMjM0NTY3FQIAEhggQlVUVE9OUkVQTFkwMDAwMDAwMDAwMDAwMDAwMDAwMDAA",
				From: "233241234567", To: "106540352242922", Type: "interactive", Text: "Talk to an agent",
				At: sec(1714480330), ProfileName: "Kofi Mensah", DisplayPhoneNumber: "15550783881",
			},
		}}},
		{"whatsapp_statuses.json", Webhook{Object: "whatsapp_business_account", Statuses: []StatusUpdate{
			{
				Channel: ChannelWhatsApp, ExternalID: "wamid.HBgMMjMzMjQxMjM0NTY3FQIAERgSQUdFTlRSRVBMWTAwMQA=",
				Status: "delivered", RecipientID: "233241234567", PhoneNumberID: "106540352242922", At: sec(1714480400),
			},
			{
				Channel: ChannelWhatsApp, ExternalID: "wamid.HBgLMTU1NTAxMjM0NTYVAgARGBJGQUlMRURNRVNTQUdFMDAxAA==",
				Status: "failed", RecipientID: "15550123456", PhoneNumberID: "106540352242922", At: sec(1714480405),
				Errors: []StatusError{{
					Code: 131047, Title: "Re-engagement message", Message: "Re-engagement message",
					Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
				}},
			},
		}}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			got, err := ParseWebhook(readFile(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, c.want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(c.want, "", " ")
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

func TestParseWebhookRefuses(t *testing.T) {
	edit := func(file, from, to string) []byte {
		b := readFile(t, file)
		if !strings.Contains(string(b), from) {
			t.Fatalf("%s has no %q", file, from)
		}
		return []byte(strings.Replace(string(b), from, to, 1))
	}
	cases := []struct {
		name  string
		body  []byte
		field string
	}{
		{"no sender", edit("messenger_text.json", `"sender": {"id": "7012345678901234"},`, ""), "entry[0].messaging[0].sender.id"},
		{"empty recipient", edit("messenger_text.json", `"recipient": {"id": "104875331234567"}`, `"recipient": {"id": ""}`), "entry[0].messaging[0].recipient.id"},
		{"no mid", edit("instagram_text.json", `"mid": "aWdf`, `"xmid": "aWdf`), "entry[0].messaging[0].message.mid"},
		{"no timestamp", edit("messenger_text.json", `"timestamp": 1714478041874,`, ""), "entry[0].messaging[0].timestamp"},
		{"attachment without type", edit("messenger_attachments_echo.json", `{"type": "file", `, `{`), "entry[0].messaging[0].message.attachments[1].type"},
		{"no phone_number_id", edit("whatsapp_text.json", `"phone_number_id": "106540352242922"`, `"phone_number_id": ""`), "entry[0].changes[0].value.metadata.phone_number_id"},
		{"no wamid", edit("whatsapp_text.json", `"id": "wamid.`, `"idx": "wamid.`), "entry[0].changes[0].value.messages[0].id"},
		{"no from", edit("whatsapp_text.json", `"from": "233241234567",`, ""), "entry[0].changes[0].value.messages[0].from"},
		{"bad timestamp", edit("whatsapp_text.json", `"1714480211"`, `"yesterday"`), "entry[0].changes[0].value.messages[0].timestamp"},
		{"text without body", edit("whatsapp_text.json", `"text": {"body": "My bill shows a late fee but I paid on the 2nd."}`, `"text2": {}`), "entry[0].changes[0].value.messages[0].text.body"},
		{"image without id", edit("whatsapp_image_reply.json", `"id": "1479537139650973"`, `"idx": "1"`), "entry[0].changes[0].value.messages[0].image.id"},
		{"status without status", edit("whatsapp_statuses.json", `"status": "delivered",`, ""), "entry[0].changes[0].value.statuses[0].status"},
		{"status without id", edit("whatsapp_statuses.json", `"id": "wamid.HBgLMTU1`, `"idx": "wamid.HBgLMTU1`), "entry[0].changes[0].value.statuses[1].id"},
		{"no object", []byte(`{"entry": []}`), "object"},
		{"timestamp as string", edit("messenger_text.json", `"timestamp": 1714478041874`, `"timestamp": "1714478041874"`), "entry.messaging.timestamp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseWebhook(c.body)
			var inv *errs.Invalid
			if !errors.As(err, &inv) || inv.Field != c.field {
				t.Errorf("err = %v, want invalid %s", err, c.field)
			}
		})
	}
	for _, body := range []string{"", "{", "[]", `{"object":"page"} {}`, "\xff", strings.Repeat(" ", MaxWebhookBytes+1)} {
		if _, err := ParseWebhook([]byte(body)); err == nil {
			t.Errorf("accepted %.20q", body)
		}
	}
	if _, err := ParseWebhook([]byte(`{"object":"user","entry":[]}`)); !errors.Is(err, ErrUnsupportedObject) {
		t.Errorf("user object: %v", err)
	}
}

// Changes that are not messages (template status, account updates) and
// Instagram comments are not conversations: ignored, not refused.
func TestParseWebhookIgnores(t *testing.T) {
	body := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"message_template_status_update","value":{"event":"APPROVED"}}]}]}`
	w, err := ParseWebhook([]byte(body))
	if err != nil || w.Ignored != 1 || len(w.Messages)+len(w.Statuses) != 0 {
		t.Errorf("got %+v, %v", w, err)
	}
	body = `{"object":"instagram","entry":[{"id":"1","time":1,"changes":[{"field":"comments","value":{"text":"nice"}}]}]}`
	w, err = ParseWebhook([]byte(body))
	if err != nil || w.Ignored != 1 {
		t.Errorf("got %+v, %v", w, err)
	}
}

// fakeGraph checks the request exactly and answers with status and body.
func fakeGraph(t *testing.T, path, wantBody string, status int, body []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method = %s", r.Method)
		}
		if r.URL.Path != path {
			t.Errorf("path = %s, want %s", r.URL.Path, path)
		}
		if r.URL.RawQuery != "" {
			t.Errorf("query = %q: the token belongs in the header", r.URL.RawQuery)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer EAAGm0PX4ZCpsBAtesttoken" {
			t.Errorf("authorization = %q", got)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type = %q", ct)
		}
		raw, _ := io.ReadAll(r.Body)
		if !jsonEqual(raw, []byte(wantBody)) {
			t.Errorf("body = %s\nwant   %s", raw, wantBody)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func testClient(base string) *Client {
	c := NewClient("EAAGm0PX4ZCpsBAtesttoken")
	c.BaseURL, c.Version = base, "v23.0"
	return c
}

func TestSendText(t *testing.T) {
	srv := fakeGraph(t, "/v23.0/me/messages",
		`{"recipient":{"id":"7012345678901234"},"messaging_type":"RESPONSE","message":{"text":"Yes, 10:00 to 16:00 on Sundays."}}`,
		200, []byte(`{"recipient_id":"7012345678901234","message_id":"m_QWdlbnRSZXBseTAwMQ"}`))
	sent, err := testClient(srv.URL).SendText(context.Background(), "7012345678901234", "Yes, 10:00 to 16:00 on Sundays.")
	if err != nil {
		t.Fatal(err)
	}
	if *sent != (Sent{MessageID: "m_QWdlbnRSZXBseTAwMQ", RecipientID: "7012345678901234"}) {
		t.Errorf("sent = %+v", sent)
	}
}

func TestSendWhatsAppText(t *testing.T) {
	srv := fakeGraph(t, "/v23.0/106540352242922/messages",
		`{"messaging_product":"whatsapp","to":"233241234567","type":"text","text":{"body":"We refunded the late fee."}}`,
		200, []byte(`{"messaging_product":"whatsapp","contacts":[{"input":"233241234567","wa_id":"233241234567"}],"messages":[{"id":"wamid.HBgMMjMzMjQxMjM0NTY3FQIAERgSUkVGVU5EMDAxAA=="}]}`))
	sent, err := testClient(srv.URL+"/").SendWhatsAppText(context.Background(), "106540352242922", "233241234567", "We refunded the late fee.")
	if err != nil {
		t.Fatal(err)
	}
	if *sent != (Sent{MessageID: "wamid.HBgMMjMzMjQxMjM0NTY3FQIAERgSUkVGVU5EMDAxAA==", RecipientID: "233241234567"}) {
		t.Errorf("sent = %+v", sent)
	}
}

func TestSendRefusesBadRequest(t *testing.T) {
	c := testClient("http://127.0.0.1:1")
	ctx := context.Background()
	check := func(err error, field string) {
		t.Helper()
		var inv *errs.Invalid
		if !errors.As(err, &inv) || inv.Field != field {
			t.Errorf("err = %v, want invalid %s", err, field)
		}
	}
	_, err := c.SendText(ctx, "", "x")
	check(err, "recipient.id")
	_, err = c.SendText(ctx, "1", "")
	check(err, "message.text")
	_, err = c.SendWhatsAppText(ctx, "", "1", "x")
	check(err, "phone_number_id")
	_, err = c.SendWhatsAppText(ctx, "1", "", "x")
	check(err, "to")
	_, err = c.SendWhatsAppText(ctx, "1", "2", "")
	check(err, "text.body")
}

func TestSendErrors(t *testing.T) {
	cases := []struct {
		name          string
		status        int
		body          []byte
		code, subcode int
		retryable     bool
	}{
		{"expired token", 400, readFile(t, "graph_error_token.json"), 190, 463, false},
		{"outside window", 400, readFile(t, "graph_error_window.json"), 10, 2018278, false},
		{"rate limit", 400, readFile(t, "graph_error_ratelimit.json"), 613, 0, true},
		{"transient", 500, readFile(t, "graph_error_transient.json"), 2, 0, true},
		{"throughput", 400, []byte(`{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"fbtrace_id":"x"}}`), 130429, 0, true},
		{"gateway", 502, []byte(`<html>Bad Gateway</html>`), 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := fakeGraph(t, "/v23.0/me/messages", `{"recipient":{"id":"1"},"messaging_type":"RESPONSE","message":{"text":"x"}}`, c.status, c.body)
			_, err := testClient(srv.URL).SendText(context.Background(), "1", "x")
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if me.HTTPStatus != c.status || me.Code != c.code || me.Subcode != c.subcode || me.Retryable() != c.retryable || me.Message == "" {
				t.Errorf("err = %+v, retryable %v", me, me.Retryable())
			}
		})
	}
	e := ParseError("send message", 400, readFile(t, "graph_error_token.json"))
	if e.Type != "OAuthException" || e.FBTraceID != "AbCdEf123GhIjKl" || !strings.Contains(e.Error(), "AbCdEf123GhIjKl") {
		t.Errorf("error = %+v", e)
	}
}

func TestSendNetworkErrors(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	t.Cleanup(func() { close(block); srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := testClient(srv.URL).SendText(ctx, "1", "x")
	var me *Error
	if !errors.As(err, &me) || !me.Retryable() {
		t.Errorf("timeout: err = %v", err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = testClient(srv.URL).SendWhatsAppText(ctx2, "1", "2", "x")
	if !errors.As(err, &me) || me.Retryable() {
		t.Errorf("canceled: err = %v", err)
	}
}
