package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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

func TestValidateSecretToken(t *testing.T) {
	const secret = "tp_7f3a9c-0e1d2b4c6a8e"
	cases := []struct {
		name, secret, header string
		want                 bool
	}{
		{"match", secret, secret, true},
		{"wrong", secret, "tp_7f3a9c-0e1d2b4c6a8f", false},
		{"prefix only", secret, secret[:10], false},
		{"longer", secret, secret + "x", false},
		{"missing header", secret, "", false},
		{"no secret configured", "", "", false},
		{"case differs", secret, strings.ToUpper(secret), false},
	}
	for _, c := range cases {
		if got := ValidateSecretToken(c.secret, c.header); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func sec(n int64) time.Time { return time.Unix(n, 0).UTC() }

func TestParseUpdate(t *testing.T) {
	cases := []struct {
		file string
		want Update
	}{
		{"message_private.json", Update{ID: 873210455, Kind: KindMessage, Message: &Inbound{
			Kind: KindMessage, ExternalID: "481516234:5121", MessageID: 5121, ChatID: 481516234, ChatType: "private",
			From:   "481516234",
			Sender: &User{ID: 481516234, FirstName: "Lena", LastName: "Hoffmann", Username: "lena_hof", LanguageCode: "de"},
			Text:   "Guten Tag, wann kommt der Techniker morgen?", At: sec(1714481000),
		}}},
		{"message_photo_reply.json", Update{ID: 873210456, Kind: KindMessage, Message: &Inbound{
			Kind: KindMessage, ExternalID: "481516234:5123", MessageID: 5123, ChatID: 481516234, ChatType: "private",
			From:   "481516234",
			Sender: &User{ID: 481516234, FirstName: "Lena", LanguageCode: "de"},
			Text:   "Typenschild Waschmaschine",
			Media:  []Media{{Type: "photo", FileID: "AgACAgIAAxkBAAIUA2Yw-large", FileUniqueID: "AQADlarge", Size: 88710}},
			At:     sec(1714481060), ReplyTo: 5122,
		}}},
		{"edited_document.json", Update{ID: 873210460, Kind: KindEditedMessage, Message: &Inbound{
			Kind: KindEditedMessage, ExternalID: "-1001987654321:77:edit:1714482090", MessageID: 77,
			ChatID: -1001987654321, ChatType: "supergroup", ChatTitle: "Rossi & Figli – Acme support",
			From:   "39201177",
			Sender: &User{ID: 39201177, FirstName: "Marco", LastName: "Rossi", Username: "mrossi", LanguageCode: "it"},
			Text:   "La fattura corretta, grazie",
			Media: []Media{{Type: "document", FileID: "BQACAgQAAxkBAAMNZjB-doc", FileUniqueID: "AgADdoc",
				FileName: "fattura_2024_0412.pdf", MimeType: "application/pdf", Size: 204811}},
			At: sec(1714482000), EditedAt: sec(1714482090),
		}}},
		{"channel_post.json", Update{ID: 873210470, Kind: KindChannelPost, Message: &Inbound{
			Kind: KindChannelPost, ExternalID: "-1001122334455:12", MessageID: 12, ChatID: -1001122334455,
			ChatType: "channel", ChatTitle: "Acme Announcements", From: "-1001122334455",
			Text: "Store hours change on Monday.", At: sec(1714483000),
		}}},
		{"callback_query.json", Update{ID: 873210480, Kind: "callback_query"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			got, err := ParseUpdate(readFile(t, c.file))
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

func TestParseUpdateRefuses(t *testing.T) {
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
		{"no update_id", edit("message_private.json", `"update_id": 873210455,`, ""), "update_id"},
		{"null update_id", edit("message_private.json", `"update_id": 873210455,`, `"update_id": null,`), "update_id"},
		{"update_id as text", edit("message_private.json", `873210455`, `"873210455"`), "update_id"},
		{"no message_id", edit("message_private.json", `"message_id": 5121,`, ""), "message.message_id"},
		{"no chat", edit("channel_post.json", `"chat": {"id": -1001122334455, "title": "Acme Announcements", "type": "channel"},`, ""), "channel_post.chat.id"},
		{"no date", edit("message_private.json", `"date": 1714481000,`, ""), "message.date"},
		{"from without id", edit("edited_document.json", `"id": 39201177, `, ""), "edited_message.from.id"},
		{"photo without file_id", edit("message_photo_reply.json", `"file_id": "AgACAgIAAxkBAAIUA2Yw-large", `, ""), "message.photo[2].file_id"},
		{"document without file_id", edit("edited_document.json", `"file_id": "BQACAgQAAxkBAAMNZjB-doc",`, ""), "edited_message.document.file_id"},
		{"text as number", edit("message_private.json", `"Guten Tag, wann kommt der Techniker morgen?"`, `42`), "message.text"},
		{"message as array", []byte(`{"update_id":1,"message":[]}`), "message"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseUpdate(c.body)
			var inv *errs.Invalid
			if !errors.As(err, &inv) || inv.Field != c.field {
				t.Errorf("err = %v, want invalid %s", err, c.field)
			}
		})
	}
	for _, body := range []string{"", "null", "[]", "{", `{"update_id":1} {}`, "\xff", strings.Repeat(" ", MaxUpdateBytes+1)} {
		if _, err := ParseUpdate([]byte(body)); err == nil {
			t.Errorf("accepted %.20q", body)
		}
	}
}

const testToken = "7012345678:AAHtestTOKENtestTOKENtestTOKEN_abc"

func fakeBotAPI(t *testing.T, wantBody string, status int, body []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method = %s", r.Method)
		}
		if want := "/bot" + testToken + "/sendMessage"; r.URL.Path != want {
			t.Errorf("path = %s, want %s", r.URL.Path, want)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type = %q", ct)
		}
		raw, _ := io.ReadAll(r.Body)
		var got, want any
		if json.Unmarshal(raw, &got) != nil || json.Unmarshal([]byte(wantBody), &want) != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("body = %s\nwant   %s", raw, wantBody)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func testClient(base string) *Client {
	c := NewClient(testToken)
	c.BaseURL = base
	return c
}

func TestSendMessage(t *testing.T) {
	srv := fakeBotAPI(t, `{"chat_id":481516234,"text":"Der Techniker kommt zwischen 9 und 11 Uhr.","reply_to_message_id":5123}`, 200, readFile(t, "send_ok.json"))
	sent, err := testClient(srv.URL).SendMessage(context.Background(), SendRequest{ChatID: 481516234, Text: "Der Techniker kommt zwischen 9 und 11 Uhr.", ReplyToMessageID: 5123})
	if err != nil {
		t.Fatal(err)
	}
	want := Sent{MessageID: 5124, ChatID: 481516234, ExternalID: "481516234:5124", At: sec(1714481100)}
	if *sent != want {
		t.Errorf("sent = %+v", sent)
	}
	// Without a reply the field is left out, not sent as 0.
	srv = fakeBotAPI(t, `{"chat_id":-1001987654321,"text":"Grazie!"}`, 200, []byte(`{"ok":true,"result":{"message_id":78,"chat":{"id":-1001987654321,"type":"supergroup"},"date":1714482100,"text":"Grazie!"}}`))
	if _, err := testClient(srv.URL+"/").SendMessage(context.Background(), SendRequest{ChatID: -1001987654321, Text: "Grazie!"}); err != nil {
		t.Fatal(err)
	}
}

func TestSendMessageRefusesBadRequest(t *testing.T) {
	c := testClient("http://127.0.0.1:1")
	for _, tc := range []struct {
		req   SendRequest
		field string
	}{
		{SendRequest{Text: "x"}, "chat_id"},
		{SendRequest{ChatID: 1}, "text"},
		{SendRequest{ChatID: 1, Text: strings.Repeat("é", MaxTextLength+1)}, "text"},
	} {
		_, err := c.SendMessage(context.Background(), tc.req)
		var inv *errs.Invalid
		if !errors.As(err, &inv) || inv.Field != tc.field {
			t.Errorf("err = %v, want invalid %s", err, tc.field)
		}
	}
	if _, err := c.SendMessage(context.Background(), SendRequest{ChatID: 1, Text: strings.Repeat("é", MaxTextLength)}); errors.As(err, new(*errs.Invalid)) {
		t.Errorf("refused 4096 characters: %v", err)
	}
}

func TestSendMessageErrors(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		body       []byte
		code       int
		retryable  bool
		retryAfter time.Duration
		migrate    int64
	}{
		{"flood control", 429, readFile(t, "error_flood.json"), 429, true, 7 * time.Second, 0},
		{"blocked by user", 403, readFile(t, "error_blocked.json"), 403, false, 0, 0},
		{"migrated", 400, readFile(t, "error_migrated.json"), 400, false, 0, -1001987654321},
		{"bad gateway", 502, []byte("<html>502 Bad Gateway</html>"), 0, true, 0, 0},
		{"ok false with 200", 200, []byte(`{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}`), 400, false, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := fakeBotAPI(t, `{"chat_id":1,"text":"x"}`, c.status, c.body)
			_, err := testClient(srv.URL).SendMessage(context.Background(), SendRequest{ChatID: 1, Text: "x"})
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if te.Code != c.code || te.Retryable() != c.retryable || te.RetryAfter != c.retryAfter || te.MigrateToChatID != c.migrate || te.Description == "" {
				t.Errorf("err = %+v, retryable %v", te, te.Retryable())
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}

func TestSendMessageNetworkErrorsHideToken(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, err := testClient(dead.URL).SendMessage(context.Background(), SendRequest{ChatID: 1, Text: "x"})
	var te *Error
	if !errors.As(err, &te) || !te.Retryable() {
		t.Errorf("refused connection: err = %v", err)
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "AAHtest") {
		t.Errorf("error shows the token: %v", err)
	}
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	t.Cleanup(func() { close(block); srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = testClient(srv.URL).SendMessage(ctx, SendRequest{ChatID: 1, Text: "x"})
	if !errors.As(err, &te) || !te.Retryable() || strings.Contains(err.Error(), testToken) {
		t.Errorf("timeout: err = %v", err)
	}
	bad := testClient("http://bad host")
	_, err = bad.SendMessage(context.Background(), SendRequest{ChatID: 1, Text: "x"})
	if err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("bad base URL: err = %v", err)
	}
}
