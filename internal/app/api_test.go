package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// scenario is one API call and what must come back. Steps run in order and
// share state: {{name}} in a path or body is replaced by a value that an
// earlier step saved from its response with save.
type scenario struct {
	name   string
	role   access.Role // "" sends no token
	token  string      // overrides role
	method string
	path   string
	body   string
	status int
	// contains lists substrings the response body must hold.
	contains []string
	// absent lists substrings it must not hold.
	absent []string
	// save maps a variable name to a top-level JSON field of the response
	// ("id", "write_key", "items.0.id").
	save map[string]string
}

func TestAPIScenarios(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := app.NewServices(db, "US")
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
		vars := map[string]string{}
		steps := []scenario{
			{name: "no token", method: "GET", path: "/api/v1/stats", status: 401, contains: []string{"application/problem+json", "Bearer"}},
			{name: "bad token", token: "tp_nope", method: "GET", path: "/api/v1/stats", status: 401},
			{name: "wrong scheme", token: "Basic abc", method: "GET", path: "/api/v1/stats", status: 401},
			{name: "the profiler is not on the main listener", role: access.Admin, method: "GET", path: "/debug/pprof/", status: 404, absent: []string{"goroutine"}},
			{name: "analyst may not create contact points", role: access.Analyst, method: "POST", path: "/api/v1/contact-points", body: `{"kind":"phone","name":"x"}`, status: 403, contains: []string{"contact_points:manage"}},
			{name: "agent may not list tokens", role: access.Agent, method: "GET", path: "/api/v1/tokens", status: 403},
			{name: "create website", role: access.Admin, method: "POST", path: "/api/v1/contact-points",
				body: `{"kind":"website","name":"Web shop","journey_stages":["pre_purchase","purchase"]}`, status: 201,
				contains: []string{`"write_key":"wk_`, `"online":true`, `"contact_level":"low"`}, save: map[string]string{"web": "id", "wk": "write_key"}},
			{name: "create phone line", role: access.Admin, method: "POST", path: "/api/v1/contact-points",
				body: `{"kind":"phone","name":"Support line +1 555 0100","contact_level":"high"}`, status: 201,
				absent: []string{`"write_key":"`}, save: map[string]string{"phone": "id"}},
			{name: "create store", role: access.Admin, method: "POST", path: "/api/v1/contact-points",
				body: `{"kind":"store","name":"Main Street store","online":false}`, status: 201, save: map[string]string{"store": "id"}},
			{name: "unknown kind", role: access.Admin, method: "POST", path: "/api/v1/contact-points", body: `{"kind":"carrier_pigeon","name":"x"}`, status: 422, contains: []string{`"field":"kind"`}},
			{name: "bad stage", role: access.Admin, method: "POST", path: "/api/v1/contact-points", body: `{"kind":"phone","name":"x","journey_stages":["later"]}`, status: 422, contains: []string{`"field":"journey_stages[0]"`}},
			{name: "malformed JSON", role: access.Admin, method: "POST", path: "/api/v1/contact-points", body: `{"kind":`, status: 400, contains: []string{"malformed JSON"}},
			{name: "unknown field", role: access.Admin, method: "POST", path: "/api/v1/contact-points", body: `{"kind":"phone","nmae":"x"}`, status: 422, contains: []string{`"field":"nmae"`}},
			{name: "list contact points", role: access.Agent, method: "GET", path: "/api/v1/contact-points", status: 200, contains: []string{"Web shop", "Main Street store"}, absent: []string{"write_key_hash", "wk_"}},
			{name: "update contact point", role: access.Admin, method: "PATCH", path: "/api/v1/contact-points/{{store}}", body: `{"journey_stages":["purchase","post_purchase"]}`, status: 200, contains: []string{`"post_purchase"`, `"Main Street store"`}},
			{name: "kind cannot change", role: access.Admin, method: "PATCH", path: "/api/v1/contact-points/{{store}}", body: `{"kind":"phone"}`, status: 422, contains: []string{`"field":"kind"`}},
			{name: "unknown contact point", role: access.Admin, method: "GET", path: "/api/v1/contact-points/123", status: 404},

			{name: "call from a phone", role: access.Integration, method: "POST", path: "/api/v1/interactions",
				body:   `{"identifiers":[{"kind":"phone","value":"+1 (212) 555-0199"}],"contact_point_id":"{{phone}}","kind":"call","reason":"shipping_charges","duration_ms":240000,"external_id":"pbx-1","source":"pbx","traits":{"name":"Ann Smith"}}`,
				status: 201, save: map[string]string{"annPhone": "customer_id", "call": "id"}},
			{name: "same call again is a duplicate", role: access.Integration, method: "POST", path: "/api/v1/interactions",
				body:   `{"identifiers":[{"kind":"phone","value":"+12125550199"}],"contact_point_id":"{{phone}}","kind":"call","external_id":"pbx-1","source":"pbx"}`,
				status: 200, contains: []string{`"duplicate":true`, `"id":"{{call}}"`}},
			{name: "email the next day", role: access.Integration, method: "POST", path: "/api/v1/interactions/batch",
				body: `{"items":[{"identifiers":[{"kind":"email","value":"Ann@Example.com"}],"contact_point_id":"{{web}}","kind":"page_view","direction":"passive","campaign":{"name":"spring","source":"print","medium":"flyer"}},
				                  {"identifiers":[{"kind":"email","value":"ann@example.com"},{"kind":"phone","value":"212-555-0199"}],"contact_point_id":"{{store}}","kind":"visit","staff_name":"Sam"}]}`,
				status: 200, save: map[string]string{"ann": "items.1.customer_id"}},
			{name: "lookup by email", role: access.Agent, method: "GET", path: "/api/v1/customers?identifier=email:ann@example.com", status: 200,
				contains: []string{`"id":"{{ann}}"`, "Ann Smith", `"value":"+12125550199"`, `"merged_ids":["{{annPhone}}"]`}},
			{name: "lookup by unknown email", role: access.Agent, method: "GET", path: "/api/v1/customers?identifier=email:zoe@example.com", status: 200, contains: []string{`"items":[]`}},
			{name: "lookup by bad identifier", role: access.Agent, method: "GET", path: "/api/v1/customers?identifier=email:zoe", status: 422, contains: []string{`"field":"identifier"`}},
			{name: "lookup without a query", role: access.Agent, method: "GET", path: "/api/v1/customers", status: 422},
			{name: "search by name", role: access.Staff, method: "GET", path: "/api/v1/customers?q=smi", status: 200, contains: []string{"Ann Smith"}},
			{name: "timeline", role: access.Agent, method: "GET", path: "/api/v1/customers/{{ann}}/timeline", status: 200,
				contains: []string{`"kind":"visit"`, `"kind":"page_view"`, `"kind":"call"`, `"medium":"flyer"`}},
			{name: "timeline filtered", role: access.Agent, method: "GET", path: "/api/v1/customers/{{ann}}/timeline?contact_point_id={{phone}}", status: 200,
				contains: []string{`"kind":"call"`}, absent: []string{`"kind":"visit"`}},
			{name: "timeline bad since", role: access.Agent, method: "GET", path: "/api/v1/customers/{{ann}}/timeline?since=yesterday", status: 422, contains: []string{`"field":"since"`}},
			{name: "bad batch item", role: access.Integration, method: "POST", path: "/api/v1/interactions/batch",
				body:   `{"items":[{"identifiers":[{"kind":"email","value":"bo@example.com"}],"contact_point_id":"{{web}}","kind":"page_view"},{"identifiers":[{"kind":"phone","value":"12"}],"contact_point_id":"{{web}}","kind":"page_view"}]}`,
				status: 422, contains: []string{`"index":1`, `"field":"identifiers[0]"`}},
			{name: "empty batch", role: access.Integration, method: "POST", path: "/api/v1/interactions/batch", body: `{"items":[]}`, status: 422, contains: []string{`"field":"items"`}},
			{name: "stats after merges", role: access.Analyst, method: "GET", path: "/api/v1/stats", status: 200, contains: []string{`"customers":1`, `"interactions":3`}},
			{name: "second customer", role: access.Agent, method: "POST", path: "/api/v1/customers",
				body: `{"name":"Bo Berg","identifiers":[{"kind":"email","value":"bo@example.com"}],"consent":{"email":{"status":"opted_in"}}}`, status: 201, save: map[string]string{"bo": "id"}},
			{name: "same customer again", role: access.Agent, method: "POST", path: "/api/v1/customers",
				body: `{"identifiers":[{"kind":"email","value":"BO@example.com"}]}`, status: 200, contains: []string{`"id":"{{bo}}"`}},
			{name: "agent may not merge", role: access.Agent, method: "POST", path: "/api/v1/customers/{{ann}}/merge", body: `{"customer_id":"{{bo}}"}`, status: 403},
			{name: "supervisor merges", role: access.Supervisor, method: "POST", path: "/api/v1/customers/{{ann}}/merge", body: `{"customer_id":"{{bo}}"}`, status: 200,
				contains: []string{`"cause":"manual"`}, save: map[string]string{"merge": "id"}},
			{name: "merged id leads to survivor", role: access.Agent, method: "GET", path: "/api/v1/customers/{{bo}}", status: 200, contains: []string{`"id":"{{ann}}"`, `"name":"Ann Smith"`, `"merged_ids":["{{annPhone}}","{{bo}}"]`}},
			{name: "undo merge", role: access.Supervisor, method: "POST", path: "/api/v1/merges/{{merge}}/undo", status: 200, contains: []string{`"undone_at"`}},
			{name: "undo twice", role: access.Supervisor, method: "POST", path: "/api/v1/merges/{{merge}}/undo", status: 409},
			{name: "update customer", role: access.Agent, method: "PATCH", path: "/api/v1/customers/{{bo}}", body: `{"journey_stage":"repeat","traits":{"language":"sv"}}`, status: 200, contains: []string{`"journey_stage":"repeat"`, `"language":"sv"`}},
			{name: "update with taken identifier", role: access.Agent, method: "PATCH", path: "/api/v1/customers/{{bo}}", body: `{"identifiers":[{"kind":"email","value":"ann@example.com"}]}`, status: 422, contains: []string{`"field":"identifiers[0]"`, "merge"}},
			{name: "customer not found", role: access.Agent, method: "GET", path: "/api/v1/customers/999", status: 404},
			{name: "id not a number", role: access.Agent, method: "GET", path: "/api/v1/customers/abc", status: 404},
			{name: "create token", role: access.Admin, method: "POST", path: "/api/v1/tokens", body: `{"name":"crm","role":"integration"}`, status: 201, contains: []string{`"token":"tp_`}},
			{name: "tokens never listed with secrets", role: access.Admin, method: "GET", path: "/api/v1/tokens", status: 200, contains: []string{`"hint"`}, absent: []string{"tp_", "token_hash"}},
			{name: "bad role", role: access.Admin, method: "POST", path: "/api/v1/tokens", body: `{"name":"x","role":"god"}`, status: 422, contains: []string{`"field":"role"`}},
			{name: "unknown api route", role: access.Admin, method: "GET", path: "/api/v1/nothing", status: 404, contains: []string{"problem"}},
			{name: "oversize body", role: access.Admin, method: "POST", path: "/api/v1/contact-points", body: `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, status: 413},
			{name: "healthz", method: "GET", path: "/healthz", status: 200},
			{name: "signed-out visitor gets the sign-in page", method: "GET", path: "/", status: 200, contains: []string{"text/html", "Sign in to Touchpoint", "name=\"password\""}},
			{name: "unknown page", method: "GET", path: "/nothing-here", status: 404},
			{name: "readyz", method: "GET", path: "/readyz", status: 200},
			{name: "metrics", method: "GET", path: "/metrics", status: 200, contains: []string{"touchpoint_http_requests_total"}},
		}
		for _, st := range steps {
			path, body := expand(st.path, vars), expand(st.body, vars)
			req, _ := http.NewRequest(st.method, srv.URL+path, strings.NewReader(body))
			switch {
			case st.token != "":
				if strings.HasPrefix(st.token, "Basic") {
					req.Header.Set("Authorization", st.token)
				} else {
					req.Header.Set("Authorization", "Bearer "+st.token)
				}
			case st.role != "":
				req.Header.Set("Authorization", "Bearer "+tokens[st.role])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := resp.Header.Get("Content-Type") + "\n" + string(b)
			if resp.StatusCode != st.status {
				t.Fatalf("%s: %s %s → %d, want %d\n%s", st.name, st.method, path, resp.StatusCode, st.status, b)
			}
			if resp.StatusCode >= 400 && strings.HasPrefix(st.path, "/api/") && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s: error with content type %q", st.name, resp.Header.Get("Content-Type"))
			}
			for _, c := range st.contains {
				if c = expand(c, vars); !strings.Contains(got, c) {
					t.Errorf("%s: response lacks %q\n%s", st.name, c, b)
				}
			}
			for _, c := range st.absent {
				if strings.Contains(string(b), expand(c, vars)) {
					t.Errorf("%s: response holds %q\n%s", st.name, c, b)
				}
			}
			for name, field := range st.save {
				vars[name] = jsonField(t, b, field)
			}
		}
	})
}

func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s
}

func jsonField(t *testing.T, b []byte, path string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("response is not JSON: %s", b)
	}
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			v = x[i]
		}
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("field %s of %s is not a string", path, b)
	}
	return s
}

func TestRateLimits(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	s := app.NewServices(db, "US")
	srv := httptest.NewServer(s.Handler(slog.New(slog.DiscardHandler), app.Limits{PerCredential: 1}))
	defer srv.Close()
	plain, _, _ := s.Access.CreateToken(ctx, "busy", access.Analyst, 0, "test")
	other, _, _ := s.Access.CreateToken(ctx, "calm", access.Analyst, 0, "test")
	get := func(token string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/stats", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	limited := 0
	for i := 0; i < 30; i++ {
		if resp := get(plain); resp.StatusCode == 429 {
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	// A burst of 2 and 1 a second: unless the 30 requests took 18 s, at
	// least 10 are refused.
	if limited < 10 {
		t.Fatalf("%d of 30 requests refused, want most of them", limited)
	}
	if resp := get(other); resp.StatusCode != 200 {
		t.Fatalf("another token was limited too: %d", resp.StatusCode)
	}
	// Guessing tokens from one address is slowed down (10 a second, bursts
	// of 50: 200 guesses within 15 s meet a refusal).
	refused := 0
	for i := 0; i < 200; i++ {
		if resp := get("tp_guess"); resp.StatusCode == 429 {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("200 failed authentications in a row were never slowed down")
	}
}
