package twilio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

const (
	testAccount = "AC0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	testToken   = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeTwilio checks the request exactly and answers with status and body.
func fakeTwilio(t *testing.T, wantForm url.Values, status int, body []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method = %s", r.Method)
		}
		if want := "/2010-04-01/Accounts/" + testAccount + "/Messages.json"; r.URL.Path != want {
			t.Errorf("path = %s, want %s", r.URL.Path, want)
		}
		if u, p, ok := r.BasicAuth(); !ok || u != testAccount || p != testToken {
			t.Errorf("basic auth = %q %q %v", u, p, ok)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("content type = %q", ct)
		}
		raw, _ := io.ReadAll(r.Body)
		got, err := url.ParseQuery(string(raw))
		if err != nil {
			t.Errorf("body: %v", err)
		}
		if got.Encode() != wantForm.Encode() {
			t.Errorf("form = %s\nwant   %s", got.Encode(), wantForm.Encode())
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func testClient(base string) *Client {
	c := NewClient(testAccount, testToken)
	c.BaseURL = base
	return c
}

func TestSend(t *testing.T) {
	want := url.Values{
		"To":             {"+14155550123"},
		"From":           {"+14155550100"},
		"Body":           {"Your technician arrives between 10:00 and 12:00."},
		"StatusCallback": {"https://hub.example.com/channels/twilio/status"},
	}
	srv := fakeTwilio(t, want, http.StatusCreated, readFile(t, "send_response.json"))
	sent, err := testClient(srv.URL).Send(context.Background(), SendRequest{
		To: "+14155550123", From: "+14155550100",
		Body:           "Your technician arrives between 10:00 and 12:00.",
		StatusCallback: "https://hub.example.com/channels/twilio/status",
	})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Sid != "SM5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b" || sent.Status != StatusQueued {
		t.Errorf("sent = %+v", sent)
	}
}

func TestSendWhatsAppWithMessagingService(t *testing.T) {
	want := url.Values{
		"To":                  {"whatsapp:+5511987654321"},
		"MessagingServiceSid": {"MG2d4f6a8c0e1b3d5f7a9c1e3b5d7f9a1c"},
		"Body":                {"Recebemos a sua foto."},
		"MediaUrl":            {"https://hub.example.com/a.png", "https://hub.example.com/b.png"},
	}
	srv := fakeTwilio(t, want, http.StatusCreated, []byte(`{"sid":"SMx","status":"accepted"}`))
	sent, err := testClient(srv.URL+"/").Send(context.Background(), SendRequest{
		Channel: ChannelWhatsApp, To: "+5511987654321",
		MessagingServiceSid: "MG2d4f6a8c0e1b3d5f7a9c1e3b5d7f9a1c",
		Body:                "Recebemos a sua foto.",
		MediaURLs:           []string{"https://hub.example.com/a.png", "https://hub.example.com/b.png"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Sid != "SMx" || sent.Status != StatusAccepted {
		t.Errorf("sent = %+v", sent)
	}
}

func TestSendRefusesBadRequest(t *testing.T) {
	c := testClient("http://127.0.0.1:1") // never called
	cases := []struct {
		req   SendRequest
		field string
	}{
		{SendRequest{From: "+1", Body: "x"}, "To"},
		{SendRequest{To: "+1", Body: "x"}, "From"},
		{SendRequest{To: "+1", From: "+2"}, "Body"},
		{SendRequest{Channel: "fax", To: "+1", From: "+2", Body: "x"}, "Channel"},
		{SendRequest{To: "+1", From: "+2", MediaURLs: make([]string, 11)}, "MediaURLs"},
	}
	for _, c2 := range cases {
		_, err := c.Send(context.Background(), c2.req)
		var inv *errs.Invalid
		if !errors.As(err, &inv) || inv.Field != c2.field {
			t.Errorf("%+v: err = %v, want invalid %s", c2.req, err, c2.field)
		}
	}
}

func TestSendErrors(t *testing.T) {
	req := SendRequest{To: "+1415555", From: "+14155550100", Body: "hello"}
	form, _ := req.form()
	cases := []struct {
		name      string
		status    int
		body      []byte
		code      int
		retryable bool
		optedOut  bool
	}{
		{"invalid number", 400, readFile(t, "error_21211.json"), CodeInvalidTo, false, false},
		{"unsubscribed", 400, readFile(t, "error_21610.json"), CodeUnsubscribed, false, true},
		{"rate limited", 429, readFile(t, "error_20429.json"), CodeTooManyRequests, true, false},
		{"server error, HTML", 503, []byte("<html>Service Unavailable</html>"), 0, true, false},
		{"bad credentials", 401, []byte(`{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`), 20003, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := fakeTwilio(t, form, c.status, c.body)
			_, err := testClient(srv.URL).Send(context.Background(), req)
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if te.HTTPStatus != c.status || te.Code != c.code || te.Retryable() != c.retryable || te.OptedOut() != c.optedOut {
				t.Errorf("err = %+v retryable=%v optedOut=%v", te, te.Retryable(), te.OptedOut())
			}
			if te.Message == "" {
				t.Error("no message")
			}
		})
	}
}

func TestSendNetworkErrors(t *testing.T) {
	req := SendRequest{To: "+14155550123", From: "+14155550100", Body: "hello"}
	// A server that never answers in time: retryable.
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	t.Cleanup(func() { close(block); srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := testClient(srv.URL).Send(ctx, req)
	var te *Error
	if !errors.As(err, &te) || !te.Retryable() || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: err = %v", err)
	}
	// Nobody listening: retryable.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, err = testClient(dead.URL).Send(context.Background(), req)
	if !errors.As(err, &te) || !te.Retryable() {
		t.Errorf("refused connection: err = %v", err)
	}
	// Canceled by the caller: not retried.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = testClient(srv.URL).Send(ctx2, req)
	if !errors.As(err, &te) || te.Retryable() {
		t.Errorf("canceled: err = %v", err)
	}
}

func TestSendAcceptedButUnreadable(t *testing.T) {
	req := SendRequest{To: "+14155550123", From: "+14155550100", Body: "hello"}
	form, _ := req.form()
	srv := fakeTwilio(t, form, http.StatusCreated, []byte(`not json`))
	_, err := testClient(srv.URL).Send(context.Background(), req)
	var te *Error
	if !errors.As(err, &te) || te.Retryable() {
		t.Errorf("err = %v, want a permanent *Error", err)
	}
}
