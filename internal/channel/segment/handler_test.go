package segment

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
)

// fakePoints knows write keys in memory.
type fakePoints map[string]*contactpoint.ContactPoint

func (f fakePoints) ByWriteKey(_ context.Context, key string) (*contactpoint.ContactPoint, error) {
	if cp, ok := f[key]; ok {
		return cp, nil
	}
	return nil, contactpoint.ErrBadWriteKey
}

// fakeRecorder keeps a copy of every call's inputs; refuse, when set, decides
// the answer to a call.
type fakeRecorder struct {
	mu     sync.Mutex
	calls  [][]interaction.Input
	refuse func(call int, in []interaction.Input) error
}

func (f *fakeRecorder) Record(_ context.Context, in []interaction.Input) ([]interaction.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := make([]interaction.Input, len(in))
	copy(cp, in)
	for i := range cp {
		cp[i].Identifiers = append(cp[i].Identifiers[:0:0], cp[i].Identifiers...)
	}
	f.calls = append(f.calls, cp)
	if f.refuse != nil {
		if err := f.refuse(len(f.calls)-1, in); err != nil {
			return nil, err
		}
	}
	return make([]interaction.Result, len(in)), nil
}

func (f *fakeRecorder) all() []interaction.Input {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []interaction.Input
	for _, c := range f.calls {
		out = append(out, c...)
	}
	return out
}

var handlerNow = time.Date(2024, 5, 1, 12, 35, 0, 0, time.UTC)

type testServer struct {
	*httptest.Server
	rec *fakeRecorder
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	rec := &fakeRecorder{}
	h := &Handler{
		Points:   fakePoints{"wk_good": testCP, "wk_browser": testCP},
		Recorder: rec,
		Now:      func() time.Time { return handlerNow },
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, rec: rec}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// problemBody decodes a problem+json reply.
func (r reply) problem(t *testing.T) problem.Details {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, body %s", ct, r.body)
	}
	var d problem.Details
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatalf("problem body %s: %v", r.body, err)
	}
	return d
}

// post sends body to path; key, when not empty, goes as basic auth.
func (s *testServer) post(t *testing.T, path, key string, body []byte, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.SetBasicAuth(key, "")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

func wantSuccess(t *testing.T, r reply) {
	t.Helper()
	if r.status != 200 || string(r.body) != `{"success":true}` || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("status %d, body %s, headers %v", r.status, r.body, r.header)
	}
}

func TestHandlerBatch(t *testing.T) {
	s := newTestServer(t)
	body := []byte(`{"batch":[
		{"type":"identify","userId":"u1","anonymousId":"a1","traits":{"email":"ann@example.com"},"messageId":"m1","timestamp":"2024-05-01T12:34:00Z"},
		{"type":"track","userId":"u1","event":"Order Completed","properties":{"revenue":10},"messageId":"m2","timestamp":"2024-05-01T12:34:30Z"}
	],"sentAt":"2024-05-01T12:34:40Z","context":{"library":{"name":"analytics-go"}}}`)
	wantSuccess(t, s.post(t, "/v1/batch", "wk_good", body))

	want := []interaction.Input{
		{
			Identifiers:    ids("user_id", "u1", "anonymous_id", "a1", "email", "ann@example.com"),
			Traits:         map[string]any{"email": "ann@example.com"},
			ContactPointID: 777,
			OccurredAt:     time.Date(2024, 5, 1, 12, 34, 20, 0, time.UTC), // received 12:35:00, 40 s before sending
			Source:         "segment:777",
			ExternalID:     "m1",
			IdentifyOnly:   true,
		},
		{
			Identifiers:    ids("user_id", "u1"),
			ContactPointID: 777,
			Kind:           "purchase",
			Direction:      "passive",
			OccurredAt:     time.Date(2024, 5, 1, 12, 34, 50, 0, time.UTC),
			Subject:        "Order Completed",
			Value:          &interaction.Money{Minor: 1000, Currency: "USD"},
			Properties:     json.RawMessage(`{"properties":{"revenue":10},"context":{"library":{"name":"analytics-go"}}}`),
			Source:         "segment:777",
			ExternalID:     "m2",
		},
	}
	if len(s.rec.calls) != 1 {
		t.Fatalf("%d calls to Record", len(s.rec.calls))
	}
	if got := s.rec.calls[0]; !reflect.DeepEqual(got, want) {
		t.Fatalf("recorded\n%+v\nwant\n%+v", got, want)
	}

	// An empty batch succeeds without storing anything.
	wantSuccess(t, s.post(t, "/v1/batch", "wk_good", []byte(`{"batch":[]}`)))
	if len(s.rec.calls) != 1 {
		t.Fatalf("%d calls to Record", len(s.rec.calls))
	}
}

func TestHandlerPaths(t *testing.T) {
	s := newTestServer(t)
	for _, c := range []struct{ path, body, kind string }{
		{"/v1/track", `{"userId":"u","event":"E"}`, "event"},
		{"/v1/t", `{"userId":"u","event":"E"}`, "event"},
		{"/v1/page", `{"userId":"u","name":"P"}`, "page_view"},
		{"/v1/p", `{"userId":"u","name":"P"}`, "page_view"},
		{"/v1/screen", `{"userId":"u","name":"S"}`, "screen_view"},
		{"/v1/s", `{"userId":"u","name":"S"}`, "screen_view"},
		{"/v1/identify", `{"userId":"u","traits":{"a":1}}`, ""},
		{"/v1/i", `{"userId":"u","traits":{"a":1}}`, ""},
		{"/v1/group", `{"userId":"u","groupId":"g"}`, ""},
		{"/v1/g", `{"userId":"u","groupId":"g"}`, ""},
		{"/v1/alias", `{"userId":"u","previousId":"p"}`, ""},
		{"/v1/a", `{"userId":"u","previousId":"p"}`, ""},
		{"/v1/batch", `{"batch":[{"type":"track","userId":"u","event":"E"}]}`, "event"},
		{"/v1/b", `{"batch":[{"type":"page","userId":"u"}]}`, "page_view"},
		{"/v1/import", `{"batch":[{"type":"screen","userId":"u"}]}`, "screen_view"},
	} {
		t.Run(c.path, func(t *testing.T) {
			n := len(s.rec.calls)
			wantSuccess(t, s.post(t, c.path, "wk_good", []byte(c.body)))
			if len(s.rec.calls) != n+1 || len(s.rec.calls[n]) != 1 {
				t.Fatalf("calls %d", len(s.rec.calls))
			}
			in := s.rec.calls[n][0]
			if in.Kind != c.kind || in.IdentifyOnly != (c.kind == "") {
				t.Fatalf("kind %q identify-only %v", in.Kind, in.IdentifyOnly)
			}
		})
	}
	// Other methods and paths are not served.
	resp, err := s.Client().Get(s.URL + "/v1/track")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	if r := s.post(t, "/v1/x", "wk_good", []byte(`{}`)); r.status != 404 {
		t.Fatalf("unknown path: %d", r.status)
	}
}

func TestHandlerAuth(t *testing.T) {
	s := newTestServer(t)
	track := `{"userId":"u","event":"E"}`
	// analytics.js: the key in the body, as text/plain (no preflight).
	wantSuccess(t, s.post(t, "/v1/t", "", []byte(`{"userId":"u","event":"E","writeKey":"wk_browser"}`), "Content-Type", "text/plain"))
	wantSuccess(t, s.post(t, "/v1/b", "", []byte(`{"batch":[{"type":"track","userId":"u","event":"E"}],"writeKey":"wk_browser"}`)))
	wantSuccess(t, s.post(t, "/v1/b", "", []byte(`{"batch":[{"type":"track","userId":"u","event":"E","writeKey":"wk_browser"}]}`)))
	// Basic auth wins over a key in the body.
	wantSuccess(t, s.post(t, "/v1/t", "wk_good", []byte(`{"userId":"u","event":"E","writeKey":"wk_unknown"}`)))

	for _, c := range []struct {
		name, key, path, body string
	}{
		{"no key", "", "/v1/track", track},
		{"unknown key", "wk_bad", "/v1/track", track},
		{"unknown body key", "", "/v1/track", `{"userId":"u","event":"E","writeKey":"wk_bad"}`},
		{"empty batch without key", "", "/v1/batch", `{"batch":[]}`},
		{"bad key and bad body", "wk_bad", "/v1/batch", `{"batch":`},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := len(s.rec.calls)
			r := s.post(t, c.path, c.key, []byte(c.body))
			if r.status != 401 || r.problem(t).Status != 401 || r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
			if len(s.rec.calls) != n {
				t.Fatal("recorded without a key")
			}
		})
	}
	// Different keys in one batch.
	r := s.post(t, "/v1/b", "", []byte(`{"batch":[{"type":"track","userId":"u","event":"E","writeKey":"wk_browser"},
		{"type":"track","userId":"u","event":"E","writeKey":"wk_good"}]}`))
	if r.status != 422 || r.problem(t).Field != "batch[1].writeKey" {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
}

func TestHandlerCORS(t *testing.T) {
	s := newTestServer(t)
	for _, path := range []string{"/v1/t", "/v1/batch", "/v1/identify"} {
		req, _ := http.NewRequest("OPTIONS", s.URL+path, nil)
		req.Header.Set("Origin", "https://shop.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") {
			t.Fatalf("%s preflight: %d %v", path, resp.StatusCode, h)
		}
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHandlerGzip(t *testing.T) {
	s := newTestServer(t)
	body := NodeBatch(50)
	wantSuccess(t, s.post(t, "/v1/batch", "wk_good", gzipped(t, body), "Content-Encoding", "gzip"))
	if got := s.rec.all(); len(got) != 50 || got[1].Subject != "Order Completed" {
		t.Fatalf("recorded %d", len(got))
	}
	// The pooled gzip reader is used again.
	wantSuccess(t, s.post(t, "/v1/batch", "wk_good", gzipped(t, body), "Content-Encoding", "gzip"))

	// A gzip bomb: 100 KB that unpack to 50 MB.
	bomb := gzipped(t, bytes.Repeat([]byte(" "), 50<<20))
	if len(bomb) > readLimit {
		t.Fatalf("bomb of %d bytes", len(bomb))
	}
	n := len(s.rec.calls)
	r := s.post(t, "/v1/batch", "wk_good", bomb, "Content-Encoding", "gzip")
	if r.status != 413 || !strings.Contains(r.problem(t).Detail, "500 KB") {
		t.Fatalf("bomb: status %d body %s", r.status, r.body)
	}
	// Just over the limit once unpacked, with a valid JSON body.
	r = s.post(t, "/v1/batch", "wk_good", gzipped(t, []byte(sizedBatch(t, MaxBatchBytes+1))), "Content-Encoding", "gzip")
	if r.status != 413 {
		t.Fatalf("big: status %d body %s", r.status, r.body)
	}
	if len(s.rec.calls) != n {
		t.Fatal("recorded a refused body")
	}
	for name, b := range map[string][]byte{"not gzip": body, "cut short": gzipped(t, body)[:100], "empty": nil} {
		r = s.post(t, "/v1/batch", "wk_good", b, "Content-Encoding", "gzip")
		if r.status != 400 {
			t.Fatalf("%s: status %d body %s", name, r.status, r.body)
		}
	}
	r = s.post(t, "/v1/batch", "wk_good", body, "Content-Encoding", "br")
	if r.status != 415 {
		t.Fatalf("brotli: status %d body %s", r.status, r.body)
	}
}

func TestHandlerSizes(t *testing.T) {
	s := newTestServer(t)
	wantSuccess(t, s.post(t, "/v1/batch", "wk_good", []byte(sizedBatch(t, MaxBatchBytes))))
	wantSuccess(t, s.post(t, "/v1/track", "wk_good", []byte(sized(t, MaxEventBytes))))
	for name, c := range map[string]struct {
		path, body, field string
	}{
		"batch":       {"/v1/batch", sizedBatch(t, MaxBatchBytes+1), ""},
		"huge batch":  {"/v1/batch", sizedBatch(t, 3*MaxBatchBytes), ""},
		"event":       {"/v1/track", sized(t, MaxEventBytes+1), ""},
		"batch event": {"/v1/batch", `{"batch":[` + sized(t, MaxEventBytes+1) + `]}`, "batch[0]"},
	} {
		r := s.post(t, c.path, "wk_good", []byte(c.body))
		if r.status != 413 {
			t.Fatalf("%s: status %d body %s", name, r.status, r.body)
		}
		if d := r.problem(t); d.Field != c.field || !strings.Contains(d.Detail, " KB") {
			t.Fatalf("%s: problem %+v", name, d)
		}
	}
}

func TestHandlerFaults(t *testing.T) {
	s := newTestServer(t)
	r := s.post(t, "/v1/batch", "wk_good", []byte(`{"batch":[{"type":"track","userId":"u","event":"E"},]}`))
	if r.status != 400 || !strings.Contains(r.problem(t).Detail, "malformed JSON") {
		t.Fatalf("malformed: %d %s", r.status, r.body)
	}
	r = s.post(t, "/v1/track", "wk_good", []byte(`{"userId":"u"`))
	if r.status != 400 {
		t.Fatalf("malformed single: %d %s", r.status, r.body)
	}
	r = s.post(t, "/v1/batch", "wk_good", []byte(`{"batch":[{"type":"track","userId":"u","event":"E"},{"type":"track","event":"E"}]}`))
	if d := r.problem(t); r.status != 422 || d.Field != "batch[1].userId" {
		t.Fatalf("invalid item: %d %s", r.status, r.body)
	}
	r = s.post(t, "/v1/track", "wk_good", []byte(`{"userId":"u"}`))
	if d := r.problem(t); r.status != 422 || d.Field != "event" {
		t.Fatalf("invalid single: %d %s", r.status, r.body)
	}
	if len(s.rec.calls) != 0 {
		t.Fatal("recorded a refused request")
	}
}

// TestHandlerRecordRefusal checks that refusals of the store name the
// Segment fields, and that only optional identifiers are left out.
func TestHandlerRecordRefusal(t *testing.T) {
	s := newTestServer(t)
	body := []byte(`{"batch":[
		{"type":"track","userId":"u1","event":"E","messageId":"m1"},
		{"type":"identify","userId":"u2","traits":{"email":"not-an-email"},"context":{"externalIds":[{"id":"c","type":"crm"}]},"messageId":"m2"}
	]}`)

	// The user id itself is refused: 422 naming it.
	s.rec.refuse = func(int, []interaction.Input) error {
		return &errs.Batch{Items: []errs.ItemError{{Index: 1, Field: "identifiers[0]", Reason: `user_id "u2": bad`}}}
	}
	r := s.post(t, "/v1/batch", "wk_good", body)
	d := r.problem(t)
	if r.status != 422 || len(d.Errors) != 1 || d.Errors[0] != (errs.ItemError{Index: 1, Field: "batch[1].userId", Reason: `user_id "u2": bad`}) {
		t.Fatalf("status %d body %s", r.status, r.body)
	}

	// The email of the traits is refused: it is left out and the batch stored.
	s.rec.calls = nil
	s.rec.refuse = func(call int, in []interaction.Input) error {
		for _, id := range in[1].Identifiers {
			if id.Kind == "email" {
				return &errs.Batch{Items: []errs.ItemError{{Index: 1, Field: "identifiers[1]", Reason: "bad email"}}}
			}
		}
		return nil
	}
	wantSuccess(t, s.post(t, "/v1/batch", "wk_good", body))
	if len(s.rec.calls) != 2 || !reflect.DeepEqual(s.rec.calls[1][1].Identifiers, ids("user_id", "u2", "crm", "c")) ||
		!reflect.DeepEqual(s.rec.calls[1][0].Identifiers, ids("user_id", "u1")) {
		t.Fatalf("calls %+v", s.rec.calls)
	}

	// Other refusals are named in Segment's terms.
	for field, want := range map[string]string{"external_id": "batch[0].messageId", "occurred_at": "batch[0].timestamp",
		"subject": "batch[0].event", "identifiers": "batch[0].userId", "campaign.name": "batch[0].context.campaign.name"} {
		s.rec.refuse = func(int, []interaction.Input) error {
			return &errs.Batch{Items: []errs.ItemError{{Index: 0, Field: field, Reason: "no"}}}
		}
		r := s.post(t, "/v1/batch", "wk_good", body)
		if d := r.problem(t); r.status != 422 || d.Errors[0].Field != want {
			t.Fatalf("%s: status %d body %s", field, r.status, r.body)
		}
	}
	// A single call gets the field alone.
	s.rec.refuse = func(int, []interaction.Input) error {
		return &errs.Batch{Items: []errs.ItemError{{Index: 0, Field: "external_id", Reason: "too long"}}}
	}
	r = s.post(t, "/v1/track", "wk_good", []byte(`{"userId":"u","event":"E"}`))
	if d := r.problem(t); r.status != 422 || d.Field != "messageId" {
		t.Fatalf("single: status %d body %s", r.status, r.body)
	}

	// A failure of the store is a 500, so that the client sends again.
	s.rec.refuse = func(int, []interaction.Input) error { return errors.New("disk full") }
	if r := s.post(t, "/v1/batch", "wk_good", body); r.status != 500 {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
}

func TestHandlerChunks(t *testing.T) {
	s := newTestServer(t)
	n := interaction.MaxBatch + 5
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"type":"track","userId":"u","event":"E","messageId":"m%d"}`, i)
	}
	wantSuccess(t, s.post(t, "/v1/batch", "wk_good", []byte(`{"batch":[`+strings.Join(items, ",")+`]}`)))
	if len(s.rec.calls) != 2 || len(s.rec.calls[0]) != interaction.MaxBatch || len(s.rec.calls[1]) != 5 ||
		s.rec.calls[1][4].ExternalID != fmt.Sprintf("m%d", n-1) {
		t.Fatalf("%d calls", len(s.rec.calls))
	}
	// A refusal in the second chunk names the item by its place in the batch.
	s.rec.refuse = func(call int, _ []interaction.Input) error {
		if call == 3 {
			return &errs.Batch{Items: []errs.ItemError{{Index: 2, Field: "external_id", Reason: "no"}}}
		}
		return nil
	}
	r := s.post(t, "/v1/batch", "wk_good", []byte(`{"batch":[`+strings.Join(items, ",")+`]}`))
	if d := r.problem(t); r.status != 422 || d.Errors[0].Index != interaction.MaxBatch+2 ||
		d.Errors[0].Field != fmt.Sprintf("batch[%d].messageId", interaction.MaxBatch+2) {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
}
