package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
	"github.com/touchpoint-hub/touchpoint/internal/webhook"
)

func TestWebhooksAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := app.NewServices(db, "US")
		defer s.Routing.Close()
		srv := httptest.NewServer(s.Handler(slog.New(slog.DiscardHandler), app.Limits{}))
		defer srv.Close()
		tokens := map[access.Role]string{}
		for _, r := range access.Roles {
			plain, _, err := s.Access.CreateToken(ctx, "test-"+string(r), r, 0, "test")
			if err != nil {
				t.Fatal(err)
			}
			tokens[r] = plain
		}
		var mu sync.Mutex
		var hits []*http.Request
		var bodies [][]byte
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			hits, bodies = append(hits, r), append(bodies, b)
			mu.Unlock()
		}))
		defer rcv.Close()

		vars := map[string]string{"rcv": rcv.URL}
		var answers []string // every response body, to look for secrets in
		secretAnswers := map[int]bool{}
		run := func(steps ...scenario) {
			t.Helper()
			for _, st := range steps {
				path, body := expand(st.path, vars), expand(st.body, vars)
				req, _ := http.NewRequest(st.method, srv.URL+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tokens[st.role])
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != st.status {
					t.Fatalf("%s: %s %s → %d, want %d\n%s", st.name, st.method, path, resp.StatusCode, st.status, b)
				}
				if resp.StatusCode >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
					t.Errorf("%s: error with content type %q", st.name, resp.Header.Get("Content-Type"))
				}
				for _, c := range st.contains {
					if c = expand(c, vars); !strings.Contains(string(b), c) {
						t.Errorf("%s: response lacks %q\n%s", st.name, c, b)
					}
				}
				for _, c := range st.absent {
					if strings.Contains(string(b), expand(c, vars)) {
						t.Errorf("%s: response holds %q\n%s", st.name, c, b)
					}
				}
				if st.method == "POST" && (path == "/api/v1/webhooks" || strings.HasSuffix(path, "/secret")) && resp.StatusCode < 300 {
					secretAnswers[len(answers)] = true
				}
				answers = append(answers, string(b))
				for name, field := range st.save {
					vars[name] = jsonScalar(t, b, field)
				}
			}
		}
		dispatch := func() {
			t.Helper()
			if _, err := s.Webhooks.DispatchOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}

		run(
			scenario{name: "agent may not", role: access.Agent, method: "GET", path: "/api/v1/webhooks", status: 403, contains: []string{"webhooks:manage"}},
			scenario{name: "supervisor may not", role: access.Supervisor, method: "POST", path: "/api/v1/webhooks", body: `{}`, status: 403},
			scenario{name: "integration may not", role: access.Integration, method: "GET", path: "/api/v1/webhooks", status: 403},
			scenario{name: "loopback refused", role: access.Admin, method: "POST", path: "/api/v1/webhooks",
				body: `{"name":"crm","url":"{{rcv}}/hook","events":["*"]}`, status: 422, contains: []string{`"field":"url"`}},
		)
		// httptest listens on 127.0.0.1: allow private targets from here on.
		s.Webhooks.SetAllowPrivate(true)
		run(
			scenario{name: "no name", role: access.Admin, method: "POST", path: "/api/v1/webhooks", body: `{"url":"{{rcv}}","events":["*"]}`, status: 422, contains: []string{`"field":"name"`}},
			scenario{name: "bad url", role: access.Admin, method: "POST", path: "/api/v1/webhooks", body: `{"name":"crm","url":"ftp://x.example","events":["*"]}`, status: 422, contains: []string{`"field":"url"`}},
			scenario{name: "unknown event type", role: access.Admin, method: "POST", path: "/api/v1/webhooks",
				body: `{"name":"crm","url":"{{rcv}}","events":["case.created","case.exploded"]}`, status: 422, contains: []string{`"field":"events[1]"`, "case.exploded"}},
			scenario{name: "unknown field", role: access.Admin, method: "POST", path: "/api/v1/webhooks", body: `{"name":"crm","url":"{{rcv}}","events":["*"],"secret":"mine"}`, status: 422, contains: []string{`"field":"secret"`}},
			scenario{name: "create", role: access.Admin, method: "POST", path: "/api/v1/webhooks",
				body:   `{"name":"CRM sync","url":"{{rcv}}/hook","events":["case.updated"]}`,
				status: 201, contains: []string{`"secret":"whsec_`, `"active":true`, `"secret_hint":"…`}, save: map[string]string{"sub": "id", "secret": "secret"}},
			scenario{name: "list", role: access.Admin, method: "GET", path: "/api/v1/webhooks", status: 200, contains: []string{`"id":"{{sub}}"`, "CRM sync"}, absent: []string{"whsec_", `"secret"`}},
			scenario{name: "get", role: access.Admin, method: "GET", path: "/api/v1/webhooks/{{sub}}", status: 200, contains: []string{`"events":["case.updated"]`}},
			scenario{name: "update events", role: access.Admin, method: "PATCH", path: "/api/v1/webhooks/{{sub}}",
				body: `{"events":["interaction.created","case.created"]}`, status: 200, contains: []string{`"events":["interaction.created","case.created"]`, "CRM sync"}},
			scenario{name: "update bad url", role: access.Admin, method: "PATCH", path: "/api/v1/webhooks/{{sub}}", body: `{"url":"not a url"}`, status: 422, contains: []string{`"field":"url"`}},
			scenario{name: "unknown subscription", role: access.Admin, method: "GET", path: "/api/v1/webhooks/123", status: 404},
			scenario{name: "phone line", role: access.Admin, method: "POST", path: "/api/v1/contact-points", body: `{"kind":"phone","name":"Support line"}`, status: 201, save: map[string]string{"phone": "id"}},
			// Recording the call writes interaction.created and, since it opens
			// a case, case.created into the outbox in the same transaction.
			scenario{name: "a call comes in", role: access.Integration, method: "POST", path: "/api/v1/interactions",
				body:   `{"identifiers":[{"kind":"phone","value":"+12125550199"}],"contact_point_id":"{{phone}}","kind":"call","direction":"inbound","external_id":"pbx-1","source":"pbx"}`,
				status: 201, save: map[string]string{"call": "id", "case": "case_id"}},
		)
		dispatch()
		run(
			scenario{name: "delivery log", role: access.Admin, method: "GET", path: "/api/v1/webhooks/{{sub}}/deliveries", status: 200,
				contains: []string{`"event_type":"interaction.created"`, `"event_type":"case.created"`, `"event_id":"interaction.created:{{call}}"`, `"event_id":"case.created:{{case}}"`, `"state":"delivered"`, `"last_status":200`},
				absent:   []string{`"payload"`}, save: map[string]string{"first": "items.1.id"}},
			scenario{name: "first page", role: access.Admin, method: "GET", path: "/api/v1/webhooks/{{sub}}/deliveries?limit=1", status: 200, contains: []string{`"next_cursor":"`}, save: map[string]string{"cursor": "next_cursor"}},
			scenario{name: "second page", role: access.Admin, method: "GET", path: "/api/v1/webhooks/{{sub}}/deliveries?limit=1&cursor={{cursor}}", status: 200, contains: []string{`"id":"{{first}}"`}, absent: []string{"next_cursor"}},
			scenario{name: "bad state", role: access.Admin, method: "GET", path: "/api/v1/webhooks/{{sub}}/deliveries?state=lost", status: 422, contains: []string{`"field":"state"`}},
			scenario{name: "one delivery with payload", role: access.Admin, method: "GET", path: "/api/v1/webhooks/{{sub}}/deliveries/{{first}}", status: 200, contains: []string{`"payload":{`, `"interaction_id":"{{call}}"`}},
			scenario{name: "replay", role: access.Admin, method: "POST", path: "/api/v1/webhooks/{{sub}}/deliveries/{{first}}/replay", status: 202,
				contains: []string{`"replay_of":"{{first}}"`, `"state":"pending"`}, save: map[string]string{"replay": "id"}},
			scenario{name: "replay unknown", role: access.Admin, method: "POST", path: "/api/v1/webhooks/{{sub}}/deliveries/999/replay", status: 404},
		)
		dispatch()
		run(
			scenario{name: "replay delivered", role: access.Admin, method: "GET", path: "/api/v1/webhooks/{{sub}}/deliveries/{{replay}}", status: 200, contains: []string{`"state":"delivered"`}},
			scenario{name: "ping", role: access.Admin, method: "POST", path: "/api/v1/webhooks/{{sub}}/ping", status: 200, contains: []string{`"event_type":"webhook.ping"`, `"state":"delivered"`, `"attempts":1`}},
			scenario{name: "rotate", role: access.Admin, method: "POST", path: "/api/v1/webhooks/{{sub}}/secret", status: 200, contains: []string{`"secret":"whsec_`}, save: map[string]string{"secret2": "secret"}},
			scenario{name: "deactivate", role: access.Admin, method: "PATCH", path: "/api/v1/webhooks/{{sub}}", body: `{"active":false}`, status: 200, contains: []string{`"active":false`}},
			scenario{name: "no ping while inactive", role: access.Admin, method: "POST", path: "/api/v1/webhooks/{{sub}}/ping", status: 409},
			scenario{name: "delete", role: access.Admin, method: "DELETE", path: "/api/v1/webhooks/{{sub}}", status: 204},
			scenario{name: "gone", role: access.Admin, method: "GET", path: "/api/v1/webhooks/{{sub}}/deliveries", status: 404},
		)

		// Every delivery the receiver got is signed with the subscription's
		// secret and says what it carries.
		mu.Lock()
		defer mu.Unlock()
		if len(hits) != 4 {
			t.Fatalf("receiver saw %d deliveries, want 4 (interaction, case, replay, ping)", len(hits))
		}
		for i, r := range hits {
			if err := webhook.Verify(vars["secret"], r.Header.Get("X-Touchpoint-Signature"), bodies[i], time.Now(), 0); err != nil {
				t.Errorf("delivery %d (%s): %v", i, r.Header.Get("X-Touchpoint-Event"), err)
			}
		}
		if string(bodies[2]) != string(bodies[0]) && string(bodies[2]) != string(bodies[1]) {
			t.Error("the replay's body differs from the original's")
		}
		// The secret is in the answers of create and rotate only.
		for i, a := range answers {
			for _, sec := range []string{vars["secret"], vars["secret2"]} {
				if strings.Contains(a, sec) && !secretAnswers[i] {
					t.Errorf("answer %d shows a signing secret: %s", i, a)
				}
			}
		}
	})
}
